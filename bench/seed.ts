// Bulk seeding for the benchmarks: one INSERT ... SELECT per account and table, generating the rows
// inside the database (a recursive CTE on SQLite, generate_series on PostgreSQL), so millions of
// rows take seconds to minutes instead of hours of round trips.
import { sql } from "kysely";
import type { Database } from "../src/db/database.js";

export const year = 365 * 86_400_000;

/** Inserts `count` rows into `table`; `values(i)` is the SQL of one row's values for row number `i` (0-based). */
async function insertSeries(database: Database, table: string, columns: string, count: number, values: (i: string) => string): Promise<void> {
  if (count <= 0) return;
  if (database.dialect === "sqlite") {
    await sql
      .raw(
        `with recursive n(i) as (select 0 union all select i + 1 from n where i < ${count - 1}) ` +
          `insert into "${table}" (${columns}) select ${values("i")} from n`,
      )
      .execute(database.db);
  } else {
    await sql
      .raw(`insert into "${table}" (${columns}) select ${values("i")} from generate_series(0::bigint, ${count - 1}::bigint) as i`)
      .execute(database.db);
  }
}

/** The newest calls or texts of `count` that are not finished yet: 2,000, or a tenth of a small account's. */
const unfinishedOf = (count: number) => Math.min(2000, Math.floor(count / 10));

/**
 * `count` calls over the year before `end`: 3 caller IDs, 9,000 numbers called, 50 campaigns (a
 * tenth without one), batches of 1,000, 5% inbound, results LA 70% / AM 15% / NO_ANS 7% / BUSY 5% /
 * CARRIER_ERROR 3%, the newest 2,000 (of a small account a tenth) not finished.
 */
export function seedCalls(database: Database, account: number, count: number, end: number): Promise<void> {
  const step = Math.floor(year / count);
  return insertSeries(
    database,
    "call",
    "account_id, from_number, to_number, start_time, duration_seconds, campaign_id, created, state, inbound, batch_id, final_result, finish_time, modified",
    count,
    (i) => {
      const created = `(${end - year} + ${i} * ${step})`;
      const unfinished = `${i} >= ${count - unfinishedOf(count)}`;
      return (
        `${account}, '1213555000' || (${i} % 3), '1310555' || (1000 + ${i} % 9000), ${created}, 30 + ${i} % 200, ` +
        `case when ${i} % 10 = 0 then null else ${i} % 50 end, ${created}, ` +
        `case when ${unfinished} then (case when ${i} % 2 = 0 then 'READY' else 'SELECTED' end) else 'FINISHED' end, ` +
        `case when ${i} % 20 = 0 then 1 else 0 end, ${i} / 1000, ` +
        `case when ${unfinished} then null when ${i} % 100 < 70 then 'LA' when ${i} % 100 < 85 then 'AM' when ${i} % 100 < 92 then 'NO_ANS' when ${i} % 100 < 97 then 'BUSY' else 'CARRIER_ERROR' end, ` +
        `case when ${unfinished} then null else ${created} + 60000 end, ${created}`
      );
    },
  );
}

/** `count` texts over the year before `end`, like the calls: the newest 2,000 (or a tenth) not finished, 5% inbound. */
export function seedTexts(database: Database, account: number, count: number, end: number): Promise<void> {
  const step = Math.floor(year / count);
  return insertSeries(
    database,
    "text",
    "account_id, from_number, to_number, inbound, state, batch_id, campaign_id, message, segments, final_result, finish_time, created, modified",
    count,
    (i) => {
      const created = `(${end - year} + ${i} * ${step})`;
      const unfinished = `${i} >= ${count - unfinishedOf(count)}`;
      return (
        `${account}, '1213555000' || (${i} % 3), '1310555' || (1000 + ${i} % 9000), case when ${i} % 20 = 0 then 1 else 0 end, ` +
        `case when ${unfinished} then 'READY' else 'FINISHED' end, ${i} / 1000, case when ${i} % 10 = 0 then null else ${i} % 50 end, ` +
        `'Your order has shipped', 1, case when ${unfinished} then null else 'SENT' end, case when ${unfinished} then null else ${created} + 5000 end, ` +
        `${created}, ${created}`
      );
    },
  );
}

/** `count` media files (metadata only: the blobs are never read by a list). */
export function seedMedia(database: Database, account: number, count: number, end: number): Promise<void> {
  const pad = (i: string) => (database.dialect === "sqlite" ? `printf('%064d', ${i})` : `lpad(${i}::text, 64, '0')`);
  return insertSeries(
    database,
    "media",
    "account_id, name, created, format, length_in_bytes, sha256, blob_key, public_key, duration_ms",
    count,
    (i) => `${account}, 'recording-' || ${i} || '.mp3', ${end - count} + ${i}, 'mp3', 480000, ${pad(i)}, 'bench/' || ${account} || '/' || ${i}, '${account}-' || ${i}, 30000`,
  );
}

/** `count` API credentials (digests that match no password: the list never checks them). */
export function seedApiCredentials(database: Database, account: number, count: number, end: number): Promise<void> {
  const pad = (i: string) => (database.dialect === "sqlite" ? `printf('%064d', ${i})` : `lpad(${i}::text, 64, '0')`);
  return insertSeries(
    database,
    "api_credential",
    "account_id, name, username, password_digest, password_tail, enabled, created",
    count,
    (i) => `${account}, 'key ' || ${i}, 'bench-${account}-' || ${i}, ${pad(i)}, 'abcd', 1, ${end - count} + ${i}`,
  );
}

/**
 * About `count` usage-ledger rows over the year, as charging makes them: for 5 in 9 of the
 * account's finished calls (1-5 minutes each) and 5 in 9 of its finished texts (together ~the
 * account's size, as 90% are finished), each linked to what it charges: the lists join the ledger
 * on those links. Seed the calls and texts first.
 */
export async function seedUsage(database: Database, account: number): Promise<void> {
  await sql`insert into usage_charge (account_id, kind, time, charged_at, call_id, call_minutes, texts, credits, plan_credits, pay_as_you_go_credits)
    select account_id, 'CALL', start_time, finish_time, id, 1 + id % 5, 0, 10000 * (1 + id % 5), 0, 10000 * (1 + id % 5)
    from "call" where account_id = ${account} and state = 'FINISHED' and id % 9 < 5`.execute(database.db);
  await sql`insert into usage_charge (account_id, kind, time, charged_at, text_id, call_minutes, texts, credits, plan_credits, pay_as_you_go_credits)
    select account_id, 'TEXT', finish_time, finish_time, id, 0, segments, 10000 * segments, 0, 10000 * segments
    from "text" where account_id = ${account} and state = 'FINISHED' and id % 9 < 5`.execute(database.db);
}
