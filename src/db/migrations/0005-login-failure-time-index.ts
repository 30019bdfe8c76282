import type { Kysely } from "kysely";

/** Lets the lockout window be swept by time alone, without scanning every recorded failure. */
export const loginFailureTimeIndex = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex("login_failure_time").on("login_failure").column("failed_at").execute();
  },
};
