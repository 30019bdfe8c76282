// getCreditUsage over a long interval summed every ledger row in it: a year of a busy account is
// a million rows, and the cost grew with them. `usage_day` keeps each account's totals per UTC day,
// written in the same transaction as each charge (BillingService.withBillingLock), so a sum over
// any interval reads one row per whole day plus the raw rows of the partial days at its ends.
import { sql, type Kysely } from "kysely";
import type { Dialect } from "./columns.js";

export function usageDays(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("usage_day")
        // No foreign key: like the ledger it sums (migration 0010), it outlives a deleted account.
        .addColumn("account_id", "bigint", (c) => c.notNull())
        // The UTC day: floor(time / 86,400,000).
        .addColumn("day", "bigint", (c) => c.notNull())
        .addColumn("call_minutes", "bigint", (c) => c.notNull())
        .addColumn("texts", "bigint", (c) => c.notNull())
        .addColumn("credits", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("usage_day_pk", ["account_id", "day"])
        // SQLite: rows stored in the primary key's order, so a range of days is one covering read.
        .$call((table) => (dialect === "sqlite" ? table.modifyEnd(sql`without rowid`) : table))
        .execute();
      await backfillUsageDays(db);
    },
  };
}

/** (Re)computes every account's day totals from the ledger: the migration's backfill. */
export async function backfillUsageDays(db: Kysely<any>): Promise<void> {
  await sql`delete from usage_day`.execute(db);
  await sql`insert into usage_day (account_id, day, call_minutes, texts, credits)
    select account_id, time / 86400000, sum(call_minutes), sum(texts), sum(credits)
    from usage_charge group by account_id, time / 86400000`.execute(db);
}
