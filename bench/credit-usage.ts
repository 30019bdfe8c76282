// getCreditUsage over one account with 1,000,000 usage-ledger rows (a year of usage, ~2,740 rows
// a day): all-time and one-day intervals, on SQLite and on PostgreSQL; then the ingest rate of
// 1-minute WAV call recordings (8 kHz mono telephony, converted to MP3) through the operator API.
// Everything runs through the real server on a loopback port.
//
// Run: npx tsx bench/credit-usage.ts                                         (SQLite only)
//      SWITCHBOARD_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/credit-usage.ts
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import pg from "pg";
import wavefile from "wavefile";
import { AudioConverter } from "../src/audio/audio-converter.js";
import { FsBlobStore } from "../src/blobs/index.js";
import { loadConfig } from "../src/config.js";
import { openDatabase, type Database } from "../src/db/database.js";
import { backfillUsageDays } from "../src/db/migrations/0011-usage-days.js";
import { buildApp } from "../src/server.js";

const rows = 1_000_000;
const year = 365 * 86_400_000;
const runs = 200;
const recordings = 20;
const postgresUrl = process.env.SWITCHBOARD_BENCH_DATABASE_URL;

async function bench(dialect: "sqlite" | "postgres"): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-bench-"));
  const schema = `bench_${randomBytes(4).toString("hex")}`;
  if (dialect === "postgres") await adminQuery(`create schema ${schema}`);
  const database = openDatabase({ url: dialect === "postgres" ? postgresUrl : undefined, dataDir, schema });
  await database.migrate();
  const converter = new AudioConverter();
  const config = loadConfig({ dataDir, logLevel: "warn" }, {});
  const adminToken = randomBytes(24).toString("hex");
  const { app, services } = await buildApp({ config, database, blobs: new FsBlobStore(path.join(dataDir, "blobs")), converter, adminToken });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const account = await services.accounts.create({ email: "bench@example.com", password: "bench password" });
    const credential = await services.credentials.create(account.id, "bench");
    const auth = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;

    const end = Date.now();
    const begin = end - year;
    let start = performance.now();
    await seed(database, account.id, begin, end);
    console.log(`[${dialect}] seeded ${rows.toLocaleString("en")} ledger rows in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    console.log(`[${dialect}] plan: ${await plan(database, account.id, end - 86_400_000, end)}`);

    for (const [label, interval] of [
      ["all-time", { intervalBegin: 0, intervalEnd: end + 1 }],
      ["one-day", { intervalBegin: end - 86_400_000, intervalEnd: end }],
    ] as const) {
      const url = `${base}/v2/me/billing/credit-usage?intervalBegin=${interval.intervalBegin}&intervalEnd=${interval.intervalEnd}`;
      const expected = await (await fetch(url, { headers: { authorization: auth } })).json();
      const service: number[] = [];
      const http: number[] = [];
      for (let i = 0; i < (label === "all-time" ? 20 : runs); i++) {
        start = performance.now();
        await services.billing.creditUsage(account, interval);
        service.push(performance.now() - start);
        start = performance.now();
        const body = await (await fetch(url, { headers: { authorization: auth } })).json();
        http.push(performance.now() - start);
        if (body.creditsUsed !== expected.creditsUsed) throw new Error("usage changed between runs");
      }
      console.log(
        `[${dialect}] getCreditUsage ${label.padEnd(8)} (${(expected.callsDurationMinutes as number).toLocaleString("en")} minutes, ${expected.creditsUsed} credits): ` +
          `query median ${median(service)} ms, p95 ${p95(service)} ms; over HTTP median ${median(http)} ms, p95 ${p95(http)} ms`,
      );
    }

    await ingestRecordings(base, adminToken, account.id, dialect);
  } finally {
    await app.close();
    await converter.close();
    await database.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (dialect === "postgres") await adminQuery(`drop schema ${schema} cascade`);
  }
}

/** One statement on each dialect: generated rows, 1 in 10 a text, the rest calls of 1-10 minutes. */
async function seed(database: Database, accountId: number, begin: number, end: number): Promise<void> {
  const step = Math.floor((end - begin) / rows);
  const columns = sql.raw("account_id, kind, time, charged_at, call_minutes, texts, credits, plan_credits, pay_as_you_go_credits");
  const values = (i: string) =>
    sql.raw(
      `${accountId}, case when ${i} % 10 = 0 then 'TEXT' else 'CALL' end, ${begin} + ${i} * ${step}, ${begin} + ${i} * ${step}, ` +
        `case when ${i} % 10 = 0 then 0 else 1 + ${i} % 10 end, case when ${i} % 10 = 0 then 1 else 0 end, ` +
        `case when ${i} % 10 = 0 then 10000 else (1 + ${i} % 10) * 10000 end, 0, case when ${i} % 10 = 0 then 10000 else (1 + ${i} % 10) * 10000 end`,
    );
  // Charging keeps the per-day totals beside each ledger row; bulk-seeded rows get theirs as the
  // migration computes them.
  if (database.dialect === "sqlite") {
    await sql`with recursive n(i) as (select 0 union all select i + 1 from n where i < ${rows - 1})
      insert into usage_charge (${columns}) select ${values("i")} from n`.execute(database.db);
    await backfillUsageDays(database.db);
    await sql`analyze`.execute(database.db);
  } else {
    await sql`insert into usage_charge (${columns}) select ${values("i")} from generate_series(0::bigint, ${rows - 1}::bigint) as i`.execute(database.db);
    await backfillUsageDays(database.db);
    // Index-only scans need the visibility map; autovacuum would get there on its own, later.
    await sql`vacuum analyze usage_charge`.execute(database.db);
  }
}

async function plan(database: Database, accountId: number, begin: number, end: number): Promise<string> {
  const query = `select sum(call_minutes), sum(texts), sum(credits) from usage_charge where account_id = ${accountId} and time >= ${begin} and time < ${end}`;
  const result = await sql.raw<Record<string, string>>(`${database.dialect === "sqlite" ? "explain query plan" : "explain"} ${query}`).execute(database.db);
  return result.rows.map((row) => row.detail ?? row["QUERY PLAN"]).join(" / ");
}

/** 1-minute WAVs posted two at a time (the machine's cores), each with its own call. */
async function ingestRecordings(base: string, adminToken: string, accountId: number, dialect: string): Promise<void> {
  const seconds = 60;
  const rate = 8000;
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, rate, "16", Int16Array.from({ length: seconds * rate }, (_, i) => 8000 * Math.sin((2 * Math.PI * 440 * i) / rate) + 500 * (Math.random() - 0.5)));
  const bytes = wav.toBuffer();
  const headers = { authorization: `Bearer ${adminToken}` };

  const ingestOne = async (n: number) => {
    const call = await fetch(`${base}/admin/v1/accounts/${accountId}/calls`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ fromNumber: "12135551189", toNumber: "13105550100", startTime: Date.now(), durationSeconds: seconds }),
    });
    const { id } = await call.json();
    const form = new FormData();
    form.append("name", `recording-${n}`);
    form.append("file", new Blob([new Uint8Array(bytes)]), "recording.wav");
    const response = await fetch(`${base}/admin/v1/calls/${id}/recordings`, { method: "POST", headers, body: form });
    if (response.status !== 201) throw new Error(`recording ${n}: ${response.status} ${await response.text()}`);
  };

  await ingestOne(-1); // start the converter worker outside the timing
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      while (next < recordings) await ingestOne(next++);
    }),
  );
  const wall = (performance.now() - start) / 1000;
  console.log(
    `[${dialect}] ingested ${recordings} 1-minute 8 kHz mono WAV recordings (${(bytes.length / 1e6).toFixed(2)} MB each) in ${wall.toFixed(1)} s: ` +
      `${(recordings / wall).toFixed(2)} recordings/s, ${((recordings * seconds) / wall).toFixed(0)} s of audio per second`,
  );
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  await client.query(text);
  await client.end();
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)]!.toFixed(2);
const p95 = (values: number[]) => sorted(values)[Math.floor(values.length * 0.95)]!.toFixed(2);

console.log(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown"})`);
await bench("sqlite");
if (postgresUrl) await bench("postgres");
else console.log("PostgreSQL skipped: set SWITCHBOARD_BENCH_DATABASE_URL to run it too");
