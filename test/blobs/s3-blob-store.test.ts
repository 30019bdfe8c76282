import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3Client, S3BlobStore } from "../../src/blobs/s3-blob-store.js";
import { PayloadTooLarge } from "../../src/errors.js";
import { startS3rver, type RunningS3rver } from "../support/s3rver.js";
import { describeBlobStore, type BlobStoreHarness } from "./conformance.js";

let s3: RunningS3rver;
let buckets = 0;

beforeAll(async () => {
  s3 = await startS3rver();
});

afterAll(async () => {
  await s3?.close();
});

async function makeHarness(): Promise<BlobStoreHarness> {
  // A bucket per test: s3rver keeps multipart uploads per bucket, and we want to see all of them.
  const bucket = `blobs-${++buckets}`;
  const client: S3Client = createS3Client({
    endpoint: s3.endpoint,
    region: "us-east-1",
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    forcePathStyle: true,
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    store: new S3BlobStore({ client, bucket, prefix: "media/blobs" }),
    async contents() {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      const objects = (listed.Contents ?? []).map((o) => o.Key ?? "");
      const uploads = await readdir(join(s3.directory, bucket, "._S3rver_uploads")).catch(() => []);
      return [...objects, ...uploads.map((id) => `multipart upload ${id}`)];
    },
    async leaveCrashedUpload() {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: "media/blobs/tmp/crashed", Body: "half a file" }));
    },
    async cleanup() {
      client.destroy();
    },
  };
}

describeBlobStore("s3 (s3rver)", makeHarness);

describe("S3BlobStore", () => {
  it("reports why a put failed even when aborting the multipart upload fails too", async () => {
    const { store, cleanup } = await makeHarness();
    const refusedBefore = s3.aborts.abortsRefused;
    s3.aborts.refuseAborts = true;
    try {
      const twelveMiB = Readable.from(
        (function* () {
          for (let i = 0; i < 48; i++) yield Buffer.alloc(256 * 1024, i);
        })(),
      );
      await expect(store.put(twelveMiB, { maxBytes: 6 * 1024 * 1024 })).rejects.toBeInstanceOf(PayloadTooLarge);
      expect(s3.aborts.abortsRefused).toBeGreaterThan(refusedBefore);
    } finally {
      s3.aborts.refuseAborts = false;
      await cleanup();
    }
  });
});
