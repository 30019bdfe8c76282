import type { Kysely } from "kysely";

/**
 * One row per username with a login attempt in its current window, replacing the log of failures:
 * a counter row can be taken atomically (an upsert that refuses past the limit), so attempts are
 * counted before the password is checked and parallel requests cannot outrun the limit.
 */
export const loginThrottle = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("login_throttle")
      // text: lower-casing can lengthen a 320-character username (U+0130 becomes two characters).
      .addColumn("username", "text", (c) => c.primaryKey())
      .addColumn("window_start", "bigint", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull())
      .execute();
    // Expired windows are swept by time alone.
    await db.schema.createIndex("login_throttle_window").on("login_throttle").column("window_start").execute();
    await db.schema.dropTable("login_failure").execute();
  },
};
