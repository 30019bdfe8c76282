import { sql, type Kysely } from "kysely";
import type { Dialect } from "./columns.js";

// What the operator's disable and delete operations need:
//
// - account.disabled_at: a disabled account's logins, credentials and console sessions are refused.
// - The billing ledger (usage_charge, credit_adjustment) outlives what it charged: deleting a call
//   or text sets the charge's call_id / text_id to null, and deleting an account keeps its ledger
//   rows under the bare account id (no longer a foreign key; ids are never reused, see withId).
// - call_recording.source_sha256: the SHA-256 of the uploaded file before any conversion, so a
//   repeated upload of the same recording is recognised (a WAV is stored as the MP3 made of it).
// - call_recording(created) and media(created): the retention sweep finds what is older than its
//   limit without reading either table in full every hour.

export function operatorAccounts(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`alter table account add column disabled_at bigint`.execute(db);
      await sql`alter table call_recording add column source_sha256 char(64)`.execute(db);
      // Every READY recording so far was stored as uploaded or converted from WAV; for an MP3 upload
      // the stored digest is the source's.
      await sql`update call_recording set source_sha256 = sha256`.execute(db);
      await sql`create index call_recording_created on call_recording (created)`.execute(db);
      await sql`create index media_created on media (created)`.execute(db);
      if (dialect === "postgres") await loosenLedgerPostgres(db);
      else await loosenLedgerSqlite(db);
    },
  };
}

async function loosenLedgerPostgres(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ table: string; name: string; column: string }>`
    select c.conrelid::regclass::text as "table", c.conname as name, a.attname as "column"
    from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
    where c.contype = 'f' and c.conrelid in ('usage_charge'::regclass, 'credit_adjustment'::regclass)`.execute(db);
  for (const { table, name } of rows) await sql`alter table ${sql.id(table)} drop constraint ${sql.id(name)}`.execute(db);
  await sql`alter table usage_charge add constraint usage_charge_call_id_fkey foreign key (call_id) references "call"(id) on delete set null`.execute(db);
  await sql`alter table usage_charge add constraint usage_charge_text_id_fkey foreign key (text_id) references "text"(id) on delete set null`.execute(db);
}

/** SQLite cannot alter a foreign key: both ledger tables are rebuilt, ids and sequences kept. */
async function loosenLedgerSqlite(db: Kysely<unknown>): Promise<void> {
  await rebuild(
    db,
    "usage_charge",
    `create table usage_charge_new (
      id integer primary key autoincrement,
      account_id bigint not null,
      kind varchar(8) not null,
      time bigint not null,
      charged_at bigint not null,
      call_id bigint unique references "call"(id) on delete set null,
      external_id varchar(255),
      call_minutes integer not null,
      texts integer not null,
      credits bigint not null,
      plan_credits bigint not null,
      pay_as_you_go_credits bigint not null,
      text_id bigint references "text"(id) on delete set null,
      constraint usage_charge_account_external_id unique (account_id, external_id)
    )`,
    "id, account_id, kind, time, charged_at, call_id, external_id, call_minutes, texts, credits, plan_credits, pay_as_you_go_credits, text_id",
  );
  await sql`create index usage_charge_account_time on usage_charge (account_id, time, call_minutes, texts, credits)`.execute(db);
  await sql`create unique index usage_charge_text on usage_charge (text_id)`.execute(db);

  await rebuild(
    db,
    "credit_adjustment",
    `create table credit_adjustment_new (
      id integer primary key autoincrement,
      account_id bigint not null,
      amount bigint not null,
      created bigint not null
    )`,
    "id, account_id, amount, created",
  );
  await sql`create index credit_adjustment_account on credit_adjustment (account_id, id)`.execute(db);
}

async function rebuild(db: Kysely<unknown>, table: string, create: string, columns: string): Promise<void> {
  const { rows } = await sql<{ seq: number }>`select seq from sqlite_sequence where name = ${table}`.execute(db);
  await sql.raw(create).execute(db);
  await sql.raw(`insert into ${table}_new (${columns}) select ${columns} from ${table}`).execute(db);
  await sql.raw(`drop table ${table}`).execute(db);
  await sql.raw(`alter table ${table}_new rename to ${table}`).execute(db);
  // The next id continues after the highest ever given, as AUTOINCREMENT promises.
  if (rows[0]) await sql`update sqlite_sequence set seq = ${rows[0].seq} where name = ${table}`.execute(db);
}
