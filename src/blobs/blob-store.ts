import { createHash, type Hash } from "node:crypto";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { BadRequest, PayloadTooLarge, RequestTimeout } from "../errors.js";

export interface StoredBlob {
  key: string;
  size: number;
  /** Lowercase hex SHA-256 of the content. */
  sha256: string;
}

export interface BlobStat {
  key: string;
  size: number;
}

/**
 * An upload's row must be written within this long of its put starting, or the upload is refused
 * (RequestTimeout). It is the bound that lets crash leftovers be swept without racing a live upload
 * on any node: see src/services/blob-sweeper.ts.
 */
export const uploadTimeLimitMs = 60 * 60_000;

export interface ListedBlob extends BlobStat {
  /** When it was written, unix milliseconds (on S3, when its upload began). */
  modified: number;
}

/** Anything `stream.pipeline` accepts as a source: an HTTP request, a file stream, an async generator. */
export type BlobSource = NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

export interface PutOptions {
  /** More bytes than this fails the put with PayloadTooLarge. */
  maxBytes?: number;
}

/** Inclusive byte range. `end` past the last byte is clamped, as in HTTP; `start` past it is RangeNotSatisfiable. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * A blob opened for reading by position. Downloads read a large file through two buffers that
 * take turns rather than a new Buffer per chunk (see binary-response.ts).
 */
export interface BlobFile {
  readonly size: number;
  /** Reads up to `length` bytes at `position` into the start of `buffer`; 0 at the end. */
  read(buffer: Buffer, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Keys are `/`-separated segments of `[a-z0-9._-]` that start with a letter or digit, so no key can
 * name `.`/`..`, be absolute, or escape the store. The top-level segment `tmp` is reserved for
 * in-flight uploads. On the filesystem a key cannot also be a directory of another key.
 *
 * Every put either stores the whole stream or rejects and leaves nothing behind, including when the
 * source errors or is destroyed (a client that goes away mid-upload).
 */
export interface BlobStore {
  /** Content-addressed: the key is the SHA-256 hex of the bytes; storing the same bytes again is a no-op. */
  put(body: BlobSource, options?: PutOptions): Promise<StoredBlob>;
  /** Stores under an explicit key (e.g. `renditions/<uuid>.mp3`), replacing what was there. */
  putAt(key: string, body: BlobSource, options?: PutOptions): Promise<StoredBlob>;
  /** NotFound if missing. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /**
   * For stores that can read by position (the filesystem; not S3, which streams): NotFound if
   * missing. Downloads use it when it is there and `get` otherwise.
   */
  open?(key: string): Promise<BlobFile>;
  stat(key: string): Promise<BlobStat | undefined>;
  /** Idempotent. */
  delete(key: string): Promise<void>;
  /** Every blob whose key starts with `prefix` (a directory such as `media/`), in no set order. */
  list(prefix: string): AsyncIterable<ListedBlob>;
  /** Fails every put in progress in this process, and resolves once each has removed what it wrote (shutdown). */
  abandonWrites(): Promise<void>;
  /**
   * Removes what puts cut short by a crash of any process left behind, never what a live put is
   * using, and returns how many it removed. `now` is for tests.
   */
  removeStaleUploads(now?: number): Promise<number>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
}

const KEY = /^(?!tmp(?:\/|$))[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9][a-z0-9._-]*)*$/;

const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/+(.*?))?\/*$/;
const S3_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/** `s3://bucket[/prefix]` → its parts, or undefined when it is not such a URL (or the prefix could escape). */
export function parseS3BlobUrl(url: string): { bucket: string; prefix: string } | undefined {
  const match = S3_URL.exec(url);
  if (!match) return undefined;
  const prefix = match[2] ?? "";
  return prefix === "" || S3_PREFIX.test(prefix) ? { bucket: match[1]!, prefix } : undefined;
}

export function assertValidKey(key: string): void {
  if (!isValidKey(key)) throw new BadRequest(`invalid blob key: ${JSON.stringify(key)}`);
}

export function isValidKey(key: string): boolean {
  return key.length <= 512 && KEY.test(key);
}

/** A prefix `list` takes: the segments of a valid key, each followed by "/". */
export function assertValidPrefix(prefix: string): void {
  if (!prefix.endsWith("/") || !isValidKey(prefix.slice(0, -1))) throw new BadRequest(`invalid blob key prefix: ${JSON.stringify(prefix)}`);
}

export function assertValidRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end}`);
  }
}

/** The puts a store has in progress, so that abandonWrites can fail them and wait until each has cleaned up. */
export class PutsInProgress {
  private readonly puts = new Map<AbortController, Promise<unknown>>();

  /** Runs a put, which must fail (removing what it wrote) when `signal` aborts. */
  async run<T>(put: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    const running = put(abort.signal);
    this.puts.set(abort, running);
    try {
      return await running;
    } finally {
      this.puts.delete(abort);
    }
  }

  async abandon(): Promise<void> {
    const puts = [...this.puts];
    for (const [abort] of puts) abort.abort(new Error("the server is stopping"));
    await Promise.allSettled(puts.map(([, running]) => running));
  }
}

/**
 * Pass-through that hashes, counts and enforces maxBytes; `sha256` is set once the input ends.
 * With `stallMs`, a source that sends nothing for that long fails with RequestTimeout.
 */
export class HashingMeter extends Transform {
  /** Not `size`: lib-storage's Upload would take a numeric `Body.size` for the total length. */
  byteCount = 0;
  sha256 = "";
  private readonly hash: Hash = createHash("sha256");
  private readonly stall?: NodeJS.Timeout;

  constructor(private readonly options: PutOptions & { stallMs?: number } = {}) {
    super();
    const { stallMs } = options;
    if (stallMs !== undefined) {
      this.stall = setTimeout(() => this.destroy(new RequestTimeout(`the upload stalled: no data for ${stallMs / 1000} s`)), stallMs);
      this.stall.unref();
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stall?.refresh();
    this.byteCount += chunk.length;
    const { maxBytes } = this.options;
    if (maxBytes !== undefined && this.byteCount > maxBytes) {
      callback(new PayloadTooLarge(`blob exceeds the limit of ${maxBytes} bytes`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    clearTimeout(this.stall);
    this.sha256 = this.hash.digest("hex");
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.stall);
    callback(error);
  }
}
