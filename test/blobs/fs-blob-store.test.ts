import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createBlobStore, FsBlobStore, S3BlobStore } from "../../src/blobs/index.js";
import { describeBlobStore } from "./conformance.js";

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

describeBlobStore("filesystem", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "switchboard-blobs-"));
  const store = createBlobStore({ dataDir });
  return {
    store,
    contents: () => filesUnder(join(dataDir, "blobs")),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
});

describe("FsBlobStore layout", () => {
  it("fans blobs out by key prefix, renames out of tmp/ and leaves tmp/ empty", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "switchboard-blobs-"));
    try {
      const store = createBlobStore({ dataDir });
      expect(store).toBeInstanceOf(FsBlobStore);
      const { key } = await store.put(Readable.from([Buffer.from("abc")]));
      await store.putAt(`renditions/${key}.mp3`, Readable.from([Buffer.from("mp3")]));
      const root = join(dataDir, "blobs");
      expect((await filesUnder(root)).sort()).toEqual([
        `${key.slice(0, 2)}/${key}`,
        `renditions/${key.slice(0, 2)}/${key}.mp3`,
      ]);
      expect(await readdir(join(root, "tmp"))).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("createBlobStore", () => {
  it("chooses S3 for s3:// URLs", () => {
    const store = createBlobStore({ dataDir: "/unused", blobUrl: "s3://media-bucket/switchboard/prod/", s3: { region: "us-east-1" } });
    expect(store).toBeInstanceOf(S3BlobStore);
    expect(store).toMatchObject({ bucket: "media-bucket", prefix: "switchboard/prod/" });
  });

  it.each(["file:///var/blobs", "https://example.com/bucket", "s3://", "/var/blobs", "s3://bucket/../x"])(
    "refuses the blob URL %j",
    (blobUrl) => {
      expect(() => createBlobStore({ dataDir: "/unused", blobUrl })).toThrow(/blob URL|S3 key prefix/);
    },
  );
});
