import type { Kysely } from "kysely";
import { withId, type Dialect } from "./columns.js";

// Credits are bigint ten-thousandths everywhere (src/services/credits.ts): exact on both dialects.

export function callsAndBilling(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // One row per account that has been billed or given a plan: the plan (null columns follow
      // the configured default plan), the pay-as-you-go balance and this month's plan usage. Every
      // charge updates this row first, so charges to one account are applied one at a time.
      await db.schema
        .createTable("billing_account")
        .addColumn("account_id", "bigint", (c) => c.primaryKey().references("account.id").onDelete("cascade"))
        .addColumn("plan_name", "varchar(255)")
        .addColumn("plan_monthly_credits", "bigint")
        .addColumn("plan_credits_per_call_minute", "bigint")
        .addColumn("plan_credits_per_text", "bigint")
        .addColumn("pay_as_you_go", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("plan_month_start", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("plan_credits_used", "bigint", (c) => c.notNull().defaultTo(0))
        .execute();

      // Append-only: every pay-as-you-go top-up or deduction by the operator.
      await withId(db.schema.createTable("credit_adjustment"), dialect)
        .addColumn("account_id", "bigint", (c) => c.notNull().references("account.id").onDelete("cascade"))
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("created", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("credit_adjustment_account").on("credit_adjustment").columns(["account_id", "id"]).execute();

      await withId(db.schema.createTable("call"), dialect)
        .addColumn("account_id", "bigint", (c) => c.notNull().references("account.id").onDelete("cascade"))
        .addColumn("from_number", "varchar(16)", (c) => c.notNull())
        .addColumn("to_number", "varchar(16)", (c) => c.notNull())
        .addColumn("start_time", "bigint", (c) => c.notNull())
        .addColumn("duration_seconds", "integer", (c) => c.notNull())
        .addColumn("campaign_id", "bigint")
        .addColumn("external_id", "varchar(255)")
        .addColumn("created", "bigint", (c) => c.notNull())
        // The operator's idempotency key: a retried ingest finds the call instead of charging again.
        .addUniqueConstraint("call_account_external_id", ["account_id", "external_id"])
        .execute();
      await db.schema.createIndex("call_account").on("call").columns(["account_id", "id"]).execute();

      // Append-only usage ledger: getCreditUsage is a sum over it.
      await withId(db.schema.createTable("usage_charge"), dialect)
        .addColumn("account_id", "bigint", (c) => c.notNull().references("account.id").onDelete("cascade"))
        .addColumn("kind", "varchar(8)", (c) => c.notNull())
        .addColumn("time", "bigint", (c) => c.notNull())
        .addColumn("charged_at", "bigint", (c) => c.notNull())
        .addColumn("call_id", "bigint", (c) => c.references("call.id").onDelete("cascade").unique())
        .addColumn("external_id", "varchar(255)")
        .addColumn("call_minutes", "integer", (c) => c.notNull())
        .addColumn("texts", "integer", (c) => c.notNull())
        .addColumn("credits", "bigint", (c) => c.notNull())
        .addColumn("plan_credits", "bigint", (c) => c.notNull())
        .addColumn("pay_as_you_go_credits", "bigint", (c) => c.notNull())
        // Texts' idempotency keys (calls keep theirs on the call).
        .addUniqueConstraint("usage_charge_account_external_id", ["account_id", "external_id"])
        .execute();
      // Covering: a usage sum over any interval reads only this index (measured in bench/credit-usage.ts).
      await db.schema
        .createIndex("usage_charge_account_time")
        .on("usage_charge")
        .columns(["account_id", "time", "call_minutes", "texts", "credits"])
        .execute();

      await withId(db.schema.createTable("call_recording"), dialect)
        .addColumn("account_id", "bigint", (c) => c.notNull().references("account.id").onDelete("cascade"))
        .addColumn("call_id", "bigint", (c) => c.notNull().references("call.id").onDelete("cascade"))
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("state", "varchar(16)", (c) => c.notNull())
        .addColumn("created", "bigint", (c) => c.notNull())
        .addColumn("blob_key", "varchar(512)")
        .addColumn("length_in_bytes", "bigint")
        .addColumn("sha256", "char(64)")
        .addColumn("duration_ms", "bigint")
        .addUniqueConstraint("call_recording_call_name", ["call_id", "name"])
        .execute();
    },
  };
}
