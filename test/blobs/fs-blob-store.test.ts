import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createBlobStore, FsBlobStore } from "../../src/blobs/index.js";
import { S3BlobStore } from "../../src/blobs/s3-blob-store.js";
import { NotFound } from "../../src/errors.js";
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
  it("removes temp files not written to for the given time, and keeps the rest", async () => {
    await inTempDataDir(async (dataDir) => {
      const store = new FsBlobStore(join(dataDir, "blobs"));
      expect(await store.removeStaleUploads(60_000)).toBe(0); // no tmp/ yet
      const { key } = await store.put(Readable.from([Buffer.from("kept")]));
      const tmp = join(dataDir, "blobs", "tmp");
      await writeFile(join(tmp, "crashed"), "half an upload");
      await writeFile(join(tmp, "live"), "an upload under way");
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60_000);
      await utimes(join(tmp, "crashed"), twoHoursAgo, twoHoursAgo);

      expect(await store.removeStaleUploads(60 * 60_000)).toBe(1);
      expect((await readdir(tmp)).sort()).toEqual(["live"]);
      expect(await store.stat(key)).toEqual({ key, size: 4 });
    });
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
