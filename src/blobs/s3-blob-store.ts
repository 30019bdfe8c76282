import { randomUUID } from "node:crypto";
import { Readable, pipeline } from "node:stream";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { NotFound, RangeNotSatisfiable } from "../errors.js";
import {
  assertValidKey,
  assertValidPrefix,
  assertValidRange,
  HashingMeter,
  PutsInProgress,
  isValidKey,
  parseS3BlobUrl,
  type BlobSource,
  type BlobStat,
  type BlobStore,
  type ByteRange,
  type ListedBlob,
  type PutOptions,
  type StoredBlob,
  uploadTimeLimitMs,
} from "./blob-store.js";

export interface S3Options {
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
}

export function createS3Client(options: S3Options = {}): S3Client {
  const { endpoint, region, accessKeyId, secretAccessKey, forcePathStyle } = options;
  return new S3Client({
    endpoint,
    region, // undefined falls back to the SDK's chain (AWS_REGION, ~/.aws/config)
    forcePathStyle,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    // Since 3.729 the SDK adds CRC32 checksum headers to every upload and asks for checksums on every
    // download; Cloudflare R2, Backblaze B2 and other S3-compatible servers reject those. Our own
    // SHA-256 already covers the content.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/**
 * Blobs as objects under `<prefix>/` in one bucket. The content hash is only known once the stream
 * has been read, so uploads go to `<prefix>/tmp/<uuid>` and are then copied to their key. A process
 * that dies mid-put can leave objects under `tmp/` (removeStaleUploads sweeps them) and incomplete
 * multipart uploads behind: give the bucket a lifecycle rule that aborts incomplete uploads after a day.
 */
export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  readonly bucket: string;
  /** "" or ending in "/". */
  readonly prefix: string;
  private readonly puts = new PutsInProgress();

  constructor(options: { client: S3Client; bucket: string; prefix?: string }) {
    this.client = options.client;
    this.bucket = options.bucket;
    const prefix = (options.prefix ?? "").replace(/^\/+|\/+$/g, "");
    if (prefix !== "" && !parseS3BlobUrl(`s3://${options.bucket}/${prefix}`)) throw new Error(`invalid S3 key prefix: ${JSON.stringify(prefix)}`);
    this.prefix = prefix === "" ? "" : `${prefix}/`;
  }

  put(body: BlobSource, options?: PutOptions): Promise<StoredBlob> {
    return this.write(undefined, body, options);
  }

  async putAt(key: string, body: BlobSource, options?: PutOptions): Promise<StoredBlob> {
    assertValidKey(key);
    return this.write(key, body, options);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key);
    if (range) assertValidRange(range);
    try {
      const { Body } = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Range: range && `bytes=${range.start}-${range.end}`,
        }),
      );
      if (!(Body instanceof Readable)) throw new Error("S3 GetObject returned no readable body");
      return Body;
    } catch (err) {
      if (statusOf(err) === 404) throw new NotFound(`blob ${key} not found`);
      if (statusOf(err) === 416) {
        const found = await this.stat(key);
        if (!found) throw new NotFound(`blob ${key} not found`);
        throw new RangeNotSatisfiable(found.size);
      }
      throw err;
    }
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    assertValidKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return { key, size: head.ContentLength ?? 0 };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
  }

  async *list(prefix: string): AsyncIterable<ListedBlob> {
    assertValidPrefix(prefix);
    for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: this.prefix + prefix })) {
      for (const object of page.Contents ?? []) {
        const key = (object.Key ?? "").slice(this.prefix.length);
        if (isValidKey(key)) yield { key, size: object.Size ?? 0, modified: object.LastModified?.getTime() ?? 0 };
      }
    }
  }

  /**
   * Temp objects begun more than `uploadTimeLimitMs` ago. One exists only while its put copies it to
   * its key, and a put that old is refused when its row is written anyway. (Parts of multipart uploads
   * a crash left are S3's to expire: see the lifecycle rule above.)
   */
  async removeStaleUploads(now = Date.now()): Promise<number> {
    let removed = 0;
    const tmp = { Bucket: this.bucket, Prefix: `${this.prefix}tmp/` };
    for await (const page of paginateListObjectsV2({ client: this.client }, tmp)) {
      for (const object of page.Contents ?? []) {
        if (object.Key && (object.LastModified?.getTime() ?? 0) < now - uploadTimeLimitMs) {
          await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: object.Key }));
          removed++;
        }
      }
    }
    return removed;
  }

  abandonWrites(): Promise<void> {
    return this.puts.abandon();
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  private write(key: string | undefined, body: BlobSource, options?: PutOptions): Promise<StoredBlob> {
    return this.puts.run((signal) => this.upload(key, body, options, signal));
  }

  private async upload(key: string | undefined, body: BlobSource, options: PutOptions | undefined, signal: AbortSignal): Promise<StoredBlob> {
    const tmpKey = `${this.prefix}tmp/${randomUUID()}`;
    const meter = new HashingMeter(options);
    // Errors on either side destroy `meter`, which fails the Upload's read and, through it, aborts
    // the multipart upload. The callback has nothing to add: `meter.errored` carries the cause.
    pipeline(body, meter, () => {});
    try {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: tmpKey, Body: meter },
        // Each in-flight part is held in memory; two bound a put to roughly 3 parts (15 MiB).
        queueSize: 2,
        leavePartsOnError: false,
      });
      // Failing the meter fails the Upload's read, which aborts the multipart upload.
      const abandon = () => meter.destroy(signal.reason as Error);
      if (signal.aborted) abandon();
      else signal.addEventListener("abort", abandon, { once: true });
      await upload.done();
      const finalKey = key ?? meter.sha256;
      // Same key means same bytes, so an existing content-addressed object needs no copy.
      if (key !== undefined || !(await this.stat(finalKey))) {
        // A single CopyObject is limited to 5 GiB, far above any media this server accepts.
        await this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: this.prefix + finalKey,
            CopySource: `${this.bucket}/${tmpKey}`,
          }),
        );
      }
      return { key: finalKey, size: meter.byteCount, sha256: meter.sha256 };
    } catch (err) {
      meter.destroy();
      // Prefer the cause (PayloadTooLarge, the client's disconnect) over what it led to: Upload throws
      // the AbortMultipartUpload error instead of the original one if the abort fails too.
      throw meter.errored ?? err;
    } finally {
      // Best effort: a leftover temp is garbage for removeStaleUploads, not a reason to fail the put.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: tmpKey })).catch(() => {});
    }
  }
}

function statusOf(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}
