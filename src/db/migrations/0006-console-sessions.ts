import type { Kysely } from "kysely";
import { withId, type Dialect } from "./columns.js";

export function consoleSessions(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // A signed-in web console: only the SHA-256 of its token is kept, so a copy of the database
      // cannot be replayed as a cookie.
      await withId(db.schema.createTable("console_session"), dialect)
        .addColumn("token_digest", "char(64)", (c) => c.notNull().unique())
        .addColumn("account_id", "bigint", (c) => c.notNull().references("account.id").onDelete("cascade"))
        .addColumn("created", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .execute();
      // Ending an account's sessions (a new password), and sweeping the expired ones.
      await db.schema.createIndex("console_session_account").on("console_session").column("account_id").execute();
      await db.schema.createIndex("console_session_expiry").on("console_session").column("expires_at").execute();
    },
  };
}
