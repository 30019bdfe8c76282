import type { Kysely } from "kysely";

/** The blob sweeper asks whether a key is referenced (src/db/blob-references.ts): an index lookup, not a scan. */
export const blobKeyIndexes = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex("media_blob_key").on("media").column("blob_key").execute();
    await db.schema.createIndex("media_rendition_blob_key").on("media_rendition").column("blob_key").execute();
    await db.schema.createIndex("call_recording_blob_key").on("call_recording").column("blob_key").execute();
  },
};
