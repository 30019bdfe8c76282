import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Tables } from "../db/tables.js";

/**
 * The named secret every node shares, made on first use. It lives in the database, not in a
 * file of one node's data directory, so that all nodes on one database agree on it and it
 * survives restarts. Two nodes racing to create it both end up reading the one that won.
 */
export async function serverSecret(db: Kysely<Tables>, name: string, now: number): Promise<Buffer> {
  await db
    .insertInto("server_secret")
    .values({ name, value: randomBytes(32).toString("base64url"), created: now })
    .onConflict((c) => c.column("name").doNothing())
    .execute();
  const row = await db.selectFrom("server_secret").select("value").where("name", "=", name).executeTakeFirstOrThrow();
  return Buffer.from(row.value, "base64url");
}
