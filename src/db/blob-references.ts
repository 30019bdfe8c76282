import type { Kysely } from "kysely";
import type { Tables } from "./tables.js";

// The one place that knows which rows point at blobs. The blob sweeper (src/services/blob-sweeper.ts)
// deletes old blobs under `sweptBlobPrefixes` that `referencedBlobKeys` does not find.
//
// A NEW TABLE OR COLUMN THAT HOLDS A BLOB KEY MUST BE ADDED TO BOTH, in the same change: its query
// to the union below, and the prefix its blobs are stored under to the list. A key under a listed
// prefix that no query here finds is deleted; a prefix not listed is never swept.

export const sweptBlobPrefixes = ["media/", "renditions/", "recordings/"] as const;

/** The keys among `keys` that some row references (every table is asked about every key). */
export async function referencedBlobKeys(db: Kysely<Tables>, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db
    .selectFrom("media")
    .select("blob_key as key")
    .where("blob_key", "in", keys)
    .union(db.selectFrom("media_rendition").select("blob_key as key").where("blob_key", "in", keys))
    // A key that is "in" the list is not null.
    .union(db.selectFrom("call_recording").select("blob_key as key").where("blob_key", "in", keys).$narrowType<{ key: string }>())
    .execute();
  return new Set(rows.map((row) => row.key));
}
