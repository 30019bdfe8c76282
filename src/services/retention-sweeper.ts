import type { Kysely } from "kysely";
import type { BlobStore } from "../blobs/blob-store.js";
import type { Dialect } from "../db/database.js";
import type { Tables } from "../db/tables.js";
import { takeSqliteWriteLock } from "../db/write-locks.js";
import type { DeliveryLog } from "../delivery/call-transport.js";
import type { Metrics } from "../metrics.js";
import { Periodic } from "./periodic.js";

const dayMs = 24 * 60 * 60_000;

/**
 * Delivered outbox rows are kept this long for the operator's look back (GET /admin/v1/outbox),
 * then removed. Nothing reads them after: the caller-ID throttles count the last hour, and at most
 * a day for the resend interval (src/services/caller-ids.ts); codes are erased when they expire.
 */
export const deliveredOutboxRetentionMs = 7 * dayMs;

export interface RetentionOptions {
  now: () => number;
  /** Unset: kept forever (SWITCHBOARD_RECORDING_RETENTION_DAYS, SWITCHBOARD_MEDIA_RETENTION_DAYS). */
  recordingDays?: number;
  mediaDays?: number;
  intervalMs: number;
  /** Rows removed per statement. */
  batchSize: number;
}

export interface RetentionSweep {
  recordings: number;
  media: number;
  deliveries: number;
}

/**
 * Removes what is past its retention: call recordings and media older than their settings (by
 * when they were created), and delivered outbox rows older than `deliveredOutboxRetentionMs`.
 * Usage and billing records are not touched: a call's charge outlives its recording.
 *
 * Every node runs one, at the same time if it happens so. Each removal is a delete conditional on
 * the row still being past its retention, and a blob is deleted only by the node whose delete
 * removed its row, after the commit: a node that lost the race deletes nothing. A blob whose delete
 * fails (or that the process dies before deleting) is unreferenced and the blob sweeper takes it.
 */
export class RetentionSweeper {
  private readonly periodic: Periodic;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly dialect: Dialect,
    private readonly blobs: BlobStore,
    private readonly log: DeliveryLog,
    private readonly options: RetentionOptions,
    private readonly metrics?: Metrics,
  ) {
    this.periodic = new Periodic(log);
  }

  /** Sweeps now, then every `intervalMs`, one sweep at a time. */
  start(): void {
    this.periodic.every(this.options.intervalMs, "retention sweep", () => this.sweep());
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  async sweep(): Promise<RetentionSweep> {
    const { recordingDays, mediaDays, now } = this.options;
    const time = now();
    const removed = {
      recordings: recordingDays === undefined ? 0 : await this.removeRecordings(time - recordingDays * dayMs),
      media: mediaDays === undefined ? 0 : await this.removeMedia(time - mediaDays * dayMs),
      deliveries: await this.removeDeliveredOutbox(time - deliveredOutboxRetentionMs),
    };
    this.metrics?.removedByRetention("recording", removed.recordings);
    this.metrics?.removedByRetention("media", removed.media);
    this.metrics?.removedByRetention("outbox", removed.deliveries);
    if (removed.recordings + removed.media + removed.deliveries > 0) {
      this.log.info(
        { removed },
        `retention sweep removed ${removed.recordings} call recording(s), ${removed.media} media file(s) and ${removed.deliveries} delivered outbox row(s)`,
      );
    }
    return removed;
  }

  private async removeRecordings(createdBefore: number): Promise<number> {
    return this.inBatches(async () => {
      const ids = await this.db.selectFrom("call_recording").select("id").where("created", "<", createdBefore).orderBy("id").limit(this.options.batchSize).execute();
      if (ids.length === 0) return { found: 0, removed: 0 };
      const removed = await this.db
        .deleteFrom("call_recording")
        .where("id", "in", ids.map((row) => row.id))
        .where("created", "<", createdBefore)
        .returning("blob_key")
        .execute();
      await this.deleteBlobs(removed.flatMap((row) => (row.blob_key === null ? [] : [row.blob_key])));
      return { found: ids.length, removed: removed.length };
    });
  }

  /** As a deletion of the media file would: its renditions go with it (and from the texts that carried it). */
  private async removeMedia(createdBefore: number): Promise<number> {
    return this.inBatches(async () => {
      const ids = await this.db.selectFrom("media").select("id").where("created", "<", createdBefore).orderBy("id").limit(this.options.batchSize).execute();
      if (ids.length === 0) return { found: 0, removed: 0 };
      const removed = await this.db.transaction().execute(async (tx) => {
        await takeSqliteWriteLock(tx, this.dialect);
        // PostgreSQL: a rendition being made now waits on these locks, then finds its media gone
        // (and removes its own blob), so every rendition the delete takes along is read here.
        let lock = tx.selectFrom("media").select("id").where("id", "in", ids.map((row) => row.id)).where("created", "<", createdBefore);
        if (this.dialect === "postgres") lock = lock.forUpdate();
        const locked = (await lock.execute()).map((row) => row.id);
        if (locked.length === 0) return { files: [], renditions: [] };
        const renditions = await tx.selectFrom("media_rendition").select("blob_key").where("media_id", "in", locked).execute();
        const files = await tx.deleteFrom("media").where("id", "in", locked).returning("blob_key").execute();
        return { files, renditions };
      });
      await this.deleteBlobs([...removed.files, ...removed.renditions].map((row) => row.blob_key));
      return { found: ids.length, removed: removed.files.length };
    });
  }

  private async removeDeliveredOutbox(updatedBefore: number): Promise<number> {
    return this.inBatches(async () => {
      // A SENT row's next_attempt_at is its last claim's lease: the call_outbox_due index finds the old ones.
      const ids = await this.db
        .selectFrom("call_outbox")
        .select("id")
        .where("status", "=", "SENT")
        .where("next_attempt_at", "<", updatedBefore)
        .where("updated", "<", updatedBefore)
        .limit(this.options.batchSize)
        .execute();
      if (ids.length === 0) return { found: 0, removed: 0 };
      const result = await this.db
        .deleteFrom("call_outbox")
        .where("id", "in", ids.map((row) => row.id))
        .where("status", "=", "SENT")
        .where("updated", "<", updatedBefore)
        .executeTakeFirst();
      return { found: ids.length, removed: Number(result.numDeletedRows) };
    });
  }

  /** Runs `batch` until it finds less than a full batch, or removes nothing (another node is at it). */
  private async inBatches(batch: () => Promise<{ found: number; removed: number }>): Promise<number> {
    let total = 0;
    for (;;) {
      const { found, removed } = await batch();
      total += removed;
      if (found < this.options.batchSize || removed === 0) return total;
    }
  }

  private async deleteBlobs(keys: string[]): Promise<void> {
    for (const key of keys) {
      try {
        await this.blobs.delete(key);
      } catch (error) {
        this.log.warn({ err: error, key }, "could not delete a blob whose row retention removed; the blob sweeper will");
      }
    }
  }
}
