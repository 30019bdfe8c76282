import { join } from "node:path";
import { parseS3BlobUrl, type BlobStore } from "./blob-store.js";
import { FsBlobStore } from "./fs-blob-store.js";
import type { S3Options } from "./s3-blob-store.js";

export * from "./blob-store.js";
export { FsBlobStore } from "./fs-blob-store.js";
export type { S3Options } from "./s3-blob-store.js";

export interface BlobStoreConfig {
  dataDir: string;
  /** Unset: files under `<dataDir>/blobs`. `s3://bucket/optional/prefix`: S3 or an S3-compatible server. */
  blobUrl?: string;
  s3?: S3Options;
}

export async function createBlobStore(config: BlobStoreConfig): Promise<BlobStore> {
  if (config.blobUrl === undefined || config.blobUrl === "") return new FsBlobStore(join(config.dataDir, "blobs"));
  const s3 = parseS3BlobUrl(config.blobUrl);
  if (!s3) {
    throw new Error(
      `unsupported blob URL ${JSON.stringify(config.blobUrl)}: expected s3://bucket[/prefix], or none for files under the data directory`,
    );
  }
  // Loaded only when S3 is chosen: the AWS SDK adds about 0.2 s to every start of every command.
  const { createS3Client, S3BlobStore } = await import("./s3-blob-store.js");
  return new S3BlobStore({ client: createS3Client(config.s3), ...s3 });
}
