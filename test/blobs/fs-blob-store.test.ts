import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { createBlobStore, FsBlobStore, HashingMeter } from "../../src/blobs/index.js";
import { S3BlobStore } from "../../src/blobs/s3-blob-store.js";
import { NotFound, RequestTimeout } from "../../src/errors.js";
import { describeBlobStore } from "./conformance.js";

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

describeBlobStore("filesystem", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "switchboard-blobs-"));
  const store = await createBlobStore({ dataDir });
  return {
    store,
    contents: () => filesUnder(join(dataDir, "blobs")),
    leaveCrashedUpload: async () => {
      await mkdir(join(dataDir, "blobs", "tmp"), { recursive: true });
      await writeFile(join(dataDir, "blobs", "tmp", "crashed"), "half a file");
    },
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
});

/** Runs `test` with a fresh data directory, removed afterwards. */
async function inTempDataDir(test: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "switchboard-blobs-"));
  try {
    await test(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe("FsBlobStore layout", () => {
  it("fans blobs out by key prefix, renames out of tmp/ and leaves tmp/ empty", async () => {
    await inTempDataDir(async (dataDir) => {
      const store = await createBlobStore({ dataDir });
      expect(store).toBeInstanceOf(FsBlobStore);
      const { key } = await store.put(Readable.from([Buffer.from("abc")]));
      await store.putAt(`renditions/${key}.mp3`, Readable.from([Buffer.from("mp3")]));
      const root = join(dataDir, "blobs");
      expect((await filesUnder(root)).sort()).toEqual([
        `${key.slice(0, 2)}/${key}`,
        `renditions/${key.slice(0, 2)}/${key}.mp3`,
      ]);
      expect(await readdir(join(root, "tmp"))).toEqual([]);
    });
  });
});

describe("FsBlobStore.open", () => {
  it("reads by position, reports the size, and answers NotFound for a missing or invalid key", async () => {
    await inTempDataDir(async (dataDir) => {
      const store = new FsBlobStore(join(dataDir, "blobs"));
      const { key } = await store.put(Readable.from([Buffer.from("0123456789")]));
      const file = await store.open(key);
      try {
        expect(file.size).toBe(10);
        const buffer = Buffer.alloc(4);
        expect(await file.read(buffer, 4, 3)).toBe(4);
        expect(buffer.toString()).toBe("3456");
        expect(await file.read(buffer, 4, 8)).toBe(2);
        expect(buffer.subarray(0, 2).toString()).toBe("89");
        expect(await file.read(buffer, 4, 10)).toBe(0);
      } finally {
        await file.close();
      }
      await expect(store.open("f".repeat(64))).rejects.toBeInstanceOf(NotFound);
      await expect(store.open("../escape")).rejects.toThrow();
    });
  });
});

describe("FsBlobStore.removeStaleUploads", () => {
  it("removes temp files not written to for 5 minutes by default, and keeps the rest", async () => {
    await inTempDataDir(async (dataDir) => {
      const store = new FsBlobStore(join(dataDir, "blobs"));
      expect(await store.removeStaleUploads()).toBe(0); // no tmp/ yet
      const { key } = await store.put(Readable.from([Buffer.from("kept")]));
      const tmp = join(dataDir, "blobs", "tmp");
      const age = async (name: string, minutes: number) => {
        await writeFile(join(tmp, name), "part of an upload");
        const then = new Date(Date.now() - minutes * 60_000);
        await utimes(join(tmp, name), then, then);
      };
      await age("crashed", 6);
      await age("stalled-but-alive", 1);
      await writeFile(join(tmp, "live"), "an upload under way");

      expect(await store.removeStaleUploads()).toBe(1);
      expect((await readdir(tmp)).sort()).toEqual(["live", "stalled-but-alive"]);
      expect(await store.stat(key)).toEqual({ key, size: 4 });
    });
  });
});

describe("a put whose source stalls", () => {
  it("fails with 408 once the source has sent nothing for the stall time, and not while it sends", async () => {
    const stalled = new PassThrough();
    stalled.write(Buffer.from("the first bytes, then nothing"));
    const error = await pipeline(stalled, new HashingMeter({ stallMs: 50 }), new PassThrough().resume()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeout);
    expect((error as RequestTimeout).message).toBe("the upload stalled: no data for 0.05 s");

    const steady = new HashingMeter({ stallMs: 2_000 });
    const sent = pipeline(
      Readable.from(
        (async function* () {
          for (let i = 0; i < 5; i++) {
            await new Promise((resolve) => setImmediate(resolve));
            yield Buffer.from("a chunk");
          }
        })(),
      ),
      steady,
      new PassThrough().resume(),
    );
    await expect(sent).resolves.toBeUndefined();
    expect(steady.byteCount).toBe(35);
  });
});

describe("createBlobStore", () => {
  it("chooses S3 for s3:// URLs", async () => {
    const store = await createBlobStore({ dataDir: "/unused", blobUrl: "s3://media-bucket/switchboard/prod/", s3: { region: "us-east-1" } });
    expect(store).toBeInstanceOf(S3BlobStore);
    expect(store).toMatchObject({ bucket: "media-bucket", prefix: "switchboard/prod/" });
  });

  it.each(["file:///var/blobs", "https://example.com/bucket", "s3://", "/var/blobs", "s3://bucket/../x"])(
    "refuses the blob URL %j",
    async (blobUrl) => {
      await expect(createBlobStore({ dataDir: "/unused", blobUrl })).rejects.toThrow(/blob URL|S3 key prefix/);
    },
  );
});
