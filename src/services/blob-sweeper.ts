import type { Kysely } from "kysely";
import { uploadTimeLimitMs, type BlobStore } from "../blobs/blob-store.js";
import { referencedBlobKeys, sweptBlobPrefixes } from "../db/blob-references.js";
import type { Tables } from "../db/tables.js";
import { RequestTimeout } from "../errors.js";
import { Periodic } from "./periodic.js";

/**
 * Unreferenced blobs younger than this are kept. Every upload writes its blob and then the row
 * that references it, and refuses to write the row more than `uploadTimeLimitMs` after its put
 * began (assertUploadInTime, checked just before the row is written). A blob's time in a listing
 * is no earlier than its put's start (S3 stamps a multipart object with its upload's start), so a
 * blob older than this whose row is missing will never get one: the margin over the limit covers
 * the row's write itself and clocks of nodes that disagree by minutes. Blob keys are never reused
 * (each upload and rendition names its own), so a key listed as old cannot be rewritten meanwhile.
 */
export const sweepGraceMs = 2 * uploadTimeLimitMs;

/** Refuses to make an upload visible once it is too old to be safe from the sweeper. */
export function assertUploadInTime(startedAt: number, now: number): void {
  if (now - startedAt > uploadTimeLimitMs) {
    throw new RequestTimeout(`the upload took longer than ${uploadTimeLimitMs / 60_000} minutes: send it again, faster`);
  }
}

/**
 * Deletes the blobs of rows just deleted (after their transaction committed), unless some row
 * still references one. A blob whose delete fails is an unreferenced blob like one a crash leaves,
 * and the sweeper removes it once it is older than its grace; so a failure here only delays that.
 */
export async function deleteReleasedBlobs(db: Kysely<Tables>, blobs: BlobStore, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500);
    const referenced = await referencedBlobKeys(db, batch);
    for (const key of batch) {
      if (!referenced.has(key)) await blobs.delete(key).catch(() => {});
    }
  }
}

/** The part of a pino logger the sweeper uses. What it removes was left by a crash: worth a warning. */
export interface SweepLog {
  warn(details: object, message: string): void;
}

export interface BlobSweeperOptions {
  now: () => number;
  /** Unreferenced blobs are looked for this often, temp files of cut-short puts `uploadsIntervalMs`. */
  blobsIntervalMs: number;
  uploadsIntervalMs: number;
  /** Keys asked about per query. */
  batchSize: number;
}

/**
 * Removes what a process killed mid-upload leaves behind: blobs no row references (the upload died
 * between writing its blob and its row) and temp files of puts cut short. Every node runs one;
 * deleting an orphan twice is harmless.
 */
export class BlobSweeper {
  private readonly periodic: Periodic;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly blobs: BlobStore,
    private readonly log: SweepLog,
    private readonly options: BlobSweeperOptions,
  ) {
    this.periodic = new Periodic(log);
  }

  /** Sweeps now, then on the intervals, one sweep at a time. */
  start(): void {
    this.periodic.every(this.options.uploadsIntervalMs, "sweeping temporary upload files", () => this.removeStaleUploads());
    this.periodic.every(this.options.blobsIntervalMs, "sweeping unreferenced blobs", () => this.removeUnreferencedBlobs());
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** Both return how many they removed. */
  async removeStaleUploads(): Promise<number> {
    const removed = await this.blobs.removeStaleUploads(this.options.now());
    if (removed > 0) this.log.warn({ removed }, `removed ${removed} temporary upload file(s) of puts that were cut short`);
    return removed;
  }

  async removeUnreferencedBlobs(): Promise<number> {
    const oldest = this.options.now() - sweepGraceMs;
    let removed = 0;
    for (const prefix of sweptBlobPrefixes) {
      let batch: string[] = [];
      for await (const blob of this.blobs.list(prefix)) {
        if (blob.modified >= oldest) continue;
        batch.push(blob.key);
        if (batch.length === this.options.batchSize) {
          removed += await this.removeUnreferenced(batch);
          batch = [];
        }
      }
      removed += await this.removeUnreferenced(batch);
    }
    if (removed > 0) this.log.warn({ removed }, `removed ${removed} unreferenced blob(s) left by uploads that were cut short`);
    return removed;
  }

  private async removeUnreferenced(keys: string[]): Promise<number> {
    const referenced = await referencedBlobKeys(this.db, keys);
    const orphans = keys.filter((key) => !referenced.has(key));
    for (const key of orphans) await this.blobs.delete(key);
    return orphans.length;
  }
}
