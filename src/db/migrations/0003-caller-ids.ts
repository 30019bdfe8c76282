import type { Kysely } from "kysely";
import { withId, type Dialect } from "./columns.js";

export function callerIds(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // Keys every node must share (the HMAC key of verification codes): created by whichever
      // node needs one first, so codes survive restarts and verify on any node.
      await db.schema
        .createTable("server_secret")
        .addColumn("name", "varchar(64)", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .addColumn("created", "bigint", (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable("caller_id"), dialect)
        .addColumn("account_id", "bigint", (c) => c.notNull().references("account.id").onDelete("cascade"))
        .addColumn("phone_number", "varchar(15)", (c) => c.notNull())
        .addColumn("verified_at", "bigint")
        .addColumn("code_digest", "char(64)")
        .addColumn("code_expires_at", "bigint")
        .addColumn("failed_attempts", "integer", (c) => c.notNull())
        .addColumn("created", "bigint", (c) => c.notNull())
        .addUniqueConstraint("caller_id_account_number", ["account_id", "phone_number"])
        .execute();

      await withId(db.schema.createTable("call_outbox"), dialect)
        .addColumn("call_id", "varchar(36)", (c) => c.notNull().unique())
        .addColumn("account_id", "bigint", (c) => c.notNull().references("account.id").onDelete("cascade"))
        .addColumn("to_number", "varchar(15)", (c) => c.notNull())
        .addColumn("code", "varchar(16)")
        .addColumn("message", "text")
        .addColumn("code_expires_at", "bigint")
        .addColumn("status", "varchar(8)", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("last_error", "text")
        .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
        .addColumn("created", "bigint", (c) => c.notNull())
        .addColumn("updated", "bigint", (c) => c.notNull())
        .execute();
      // The worker's claim, the send throttles (recent sends per account and per number), the
      // operator's filters, and the sweep that erases expired codes.
      await db.schema.createIndex("call_outbox_due").on("call_outbox").columns(["status", "next_attempt_at"]).execute();
      await db.schema.createIndex("call_outbox_account").on("call_outbox").columns(["account_id", "created"]).execute();
      await db.schema.createIndex("call_outbox_number").on("call_outbox").columns(["account_id", "to_number", "created"]).execute();
      await db.schema.createIndex("call_outbox_code_expiry").on("call_outbox").column("code_expires_at").execute();
    },
  };
}
