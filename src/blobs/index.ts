import { join } from "node:path";
import { parseS3BlobUrl, type BlobStore } from "./blob-store.js";
import { FsBlobStore } from "./fs-blob-store.js";
import { createS3Client, S3BlobStore, type S3Options } from "./s3-blob-store.js";

export * from "./blob-store.js";
export { FsBlobStore } from "./fs-blob-store.js";
export { createS3Client, S3BlobStore, type S3Options } from "./s3-blob-store.js";

export interface BlobStoreConfig {
  dataDir: string;
  /** Unset: files under `<dataDir>/blobs`. `s3://bucket/optional/prefix`: S3 or an S3-compatible server. */
  blobUrl?: string;
  s3?: S3Options;
}

export function createBlobStore(config: BlobStoreConfig): BlobStore {
  if (config.blobUrl === undefined || config.blobUrl === "") return new FsBlobStore(join(config.dataDir, "blobs"));
  const s3 = parseS3BlobUrl(config.blobUrl);
  if (!s3) {
    throw new Error(
      `unsupported blob URL ${JSON.stringify(config.blobUrl)}: expected s3://bucket[/prefix], or none for files under the data directory`,
    );
  }
  return new S3BlobStore({ client: createS3Client(config.s3), ...s3 });
}
