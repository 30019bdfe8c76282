// findCalls over 1,000,000 calls of one account among 10,000,000 (every filter shape, with its
// query plan), sendCalls of 1,000 recipients, and the outbox's delivery rate to a local webhook
// receiver, on SQLite and on PostgreSQL. Everything but the seed runs through the real server on
// a loopback port.
//
// Run: npx tsx bench/calls.ts                                         (SQLite only)
//      SWITCHBOARD_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/calls.ts
// Smaller: BENCH_CALLS=100000 BENCH_OTHER_CALLS=900000 npx tsx bench/calls.ts
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import pg from "pg";
import { AudioConverter } from "../src/audio/audio-converter.js";
import { FsBlobStore } from "../src/blobs/index.js";
import { loadConfig } from "../src/config.js";
import { openDatabase, type Database } from "../src/db/database.js";
import { CallDeliveryWorker, deliveryOptions } from "../src/delivery/call-delivery-worker.js";
import { WebhookCallTransport } from "../src/delivery/webhook-transport.js";
import { buildApp, type Services } from "../src/server.js";
import { callListQuery, type CallQuery } from "../src/services/calls.js";
import { boundedCountQuery } from "../src/services/paging.js";
import { backfillUsageDays } from "../src/db/migrations/0011-usage-days.js";
import { seedCalls, year } from "./seed.js";

const accountCalls = Number(process.env.BENCH_CALLS ?? 1_000_000);
const otherCalls = Number(process.env.BENCH_OTHER_CALLS ?? 9_000_000);
const otherAccounts = 9;
const runs = 50;
const postgresUrl = process.env.SWITCHBOARD_BENCH_DATABASE_URL;

async function bench(dialect: "sqlite" | "postgres"): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-bench-"));
  const schema = `bench_${randomBytes(4).toString("hex")}`;
  if (dialect === "postgres") await adminQuery(`create schema ${schema}`);
  const database = openDatabase({ url: dialect === "postgres" ? postgresUrl : undefined, dataDir, schema });
  await database.migrate();
  const converter = new AudioConverter();
  const receiver = await startReceiver();
  const secret = randomBytes(16).toString("hex");
  const config = loadConfig({ dataDir, logLevel: "warn", callsWebhookUrl: receiver.url, callsWebhookSecret: secret }, {});
  const adminToken = randomBytes(24).toString("hex");
  const { app, services } = await buildApp({ config, database, blobs: new FsBlobStore(path.join(dataDir, "blobs")), converter, adminToken });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const accounts = [];
    for (let i = 0; i <= otherAccounts; i++) accounts.push(await services.accounts.create({ email: `bench${i}@example.com`, password: "bench password" }));
    const account = accounts[0]!;
    const credential = await services.credentials.create(account.id, "bench");
    const auth = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;

    const end = Date.now() - 60_000;
    let start = performance.now();
    await seed(database, account.id, accounts.slice(1).map((a) => a.id), end);
    console.log(
      `[${dialect}] seeded ${accountCalls.toLocaleString("en")} calls of one account and ${otherCalls.toLocaleString("en")} of ${otherAccounts} others ` +
        `in ${((performance.now() - start) / 1000).toFixed(1)} s (load average ${loadAverage()})`,
    );

    const day = end - 86_400_000;
    const { first: firstId } = await database.db
      .selectFrom("call")
      .select((eb) => eb.fn.min("id").as("first"))
      .where("account_id", "=", account.id)
      .executeTakeFirstOrThrow();
    const shapes: Array<[string, CallQuery, { offset?: number }?]> = [
      ["newest first", {}],
      ["id (20 ids)", { id: Array.from({ length: 20 }, (_, i) => Number(firstId) + i * 997) }],
      ["campaignId", { campaignId: 7 }],
      ["campaignId=0", { campaignId: 0 }],
      ["batchId", { batchId: 42 }],
      ["fromNumber", { fromNumber: "12135550002" }],
      ["toNumber", { toNumber: "13105551234" }],
      ["label", { label: "vip" }],
      ["states=FINISHED", { states: "FINISHED" }],
      ["states=READY,SELECTED", { states: "READY,SELECTED" }],
      ["results=BUSY", { results: "BUSY" }],
      ["results=LA,AM", { results: "LA,AM" }],
      ["results=BUSY,NO_ANS", { results: "BUSY,NO_ANS" }],
      ["inbound=true", { inbound: true }],
      ["one day (intervalBegin/End)", { intervalBegin: day, intervalEnd: end }],
      ["toNumber + results", { toNumber: "13105551234", results: "LA" }],
      ["offset 900", {}, { offset: 900 }],
    ];
    const results: string[] = [];
    for (const [label, query, options] of shapes) {
      const page = { limit: 100, offset: options?.offset ?? 0 };
      const { counted, rows } = callListQuery(database.db, account.id, query, page);
      console.log(`[${dialect}] ${label}: page ${await explain(database, rows.compile())}`);
      console.log(`[${dialect}] ${label}: count ${await explain(database, boundedCountQuery(counted).compile(database.db))}`);
      const queryString = toQueryString(query, page);
      const url = `${base}/v2/calls?${queryString}`;
      const first = await (await fetch(url, { headers: { authorization: auth } })).json();
      const service: number[] = [];
      const http: number[] = [];
      for (let i = 0; i < runs; i++) {
        start = performance.now();
        await services.calls.find(account.id, query, page, base);
        service.push(performance.now() - start);
        start = performance.now();
        const body = await (await fetch(url, { headers: { authorization: auth } })).json();
        http.push(performance.now() - start);
        if (body.totalCount !== first.totalCount) throw new Error(`${label}: totalCount changed between runs`);
      }
      results.push(
        `| ${label} | ${first.items.length} | ${first.totalCount} | ${median(service)} | ${p95(service)} | ${median(http)} | ${p95(http)} |`,
      );
    }
    console.log(`[${dialect}] findCalls, ${runs} runs each (load average ${loadAverage()}):`);
    console.log("| filter | items | totalCount | query median ms | p95 | HTTP median ms | p95 |");
    console.log("| --- | --- | --- | --- | --- | --- | --- |");
    for (const line of results) console.log(line);

    await sendAndDeliver(dialect, base, database, services, account.id, auth, receiver, config);
  } finally {
    await app.close();
    await converter.close();
    await database.close();
    receiver.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (dialect === "postgres") await adminQuery(`drop schema ${schema} cascade`);
  }
}

/**
 * One statement per account on each dialect (bench/seed.ts): every 100th of the measured account's
 * calls labelled "vip", and each finished one charged on the ledger.
 */
async function seed(database: Database, accountId: number, others: number[], end: number): Promise<void> {
  const insert = (account: number, count: number) => seedCalls(database, account, count, end);
  for (const other of others.slice(0, Math.ceil(others.length / 2))) await insert(other, Math.floor(otherCalls / others.length));
  await insert(accountId, accountCalls);
  for (const other of others.slice(Math.ceil(others.length / 2))) await insert(other, Math.floor(otherCalls / others.length));
  await sql`insert into call_label (call_id, label, account_id, created) select id, 'vip', account_id, created from "call"
    where account_id = ${accountId} and id % 100 = 0`.execute(database.db);
  await sql`insert into usage_charge (account_id, kind, time, charged_at, call_id, call_minutes, texts, credits, plan_credits, pay_as_you_go_credits)
    select account_id, 'CALL', start_time, finish_time, id, 1, 0, 10000, 0, 10000 from "call" where account_id = ${accountId} and state = 'FINISHED'`.execute(database.db);
  await backfillUsageDays(database.db);
  if (database.dialect === "sqlite") await sql`analyze`.execute(database.db);
  else await sql`vacuum analyze`.execute(database.db);
}

/** sendCalls of 1,000 recipients, then the rate the outbox delivers them to the receiver at. */
async function sendAndDeliver(
  dialect: string,
  base: string,
  database: Database,
  services: Services,
  accountId: number,
  auth: string,
  receiver: Receiver,
  config: ReturnType<typeof loadConfig>,
): Promise<void> {
  const now = Date.now();
  await database.db
    .insertInto("caller_id")
    .values({ account_id: accountId, phone_number: "12135551189", verified_at: now, code_digest: null, code_expires_at: null, failed_attempts: 0, created: now })
    .execute();
  await services.billing.addCredits(accountId, 1_000_000);
  const body = JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ phoneNumber: `1310555${String(1000 + i)}`, liveMessage: "Your order has shipped" })));
  const sends: number[] = [];
  for (let i = 0; i < 10; i++) {
    const start = performance.now();
    const response = await fetch(`${base}/v2/calls`, { method: "POST", headers: { authorization: auth, "content-type": "application/json" }, body });
    if (response.status !== 200) throw new Error(`sendCalls: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
    sends.push(performance.now() - start);
  }
  console.log(`[${dialect}] sendCalls of 1,000 recipients over HTTP: median ${median(sends)} ms, p95 ${p95(sends)} ms, 10 runs (load average ${loadAverage()})`);

  // 10,000 calls queued; each worker setting delivers its share of them.
  const transport = new WebhookCallTransport(config.calls.webhookUrl!, config.calls.webhookSecret!, config.calls.webhookTimeoutMs);
  for (const batchSize of [20, 100, 250]) {
    // Only webhook deliveries are queued: this worker never meets a simulated outcome.
    const worker = new CallDeliveryWorker(services.outbox, transport, undefined as never, services, { error() {}, warn() {}, info() {} }, {
      ...deliveryOptions(config.calls),
      batchSize,
    });
    const before = await receiver.count();
    const start = performance.now();
    let delivered = 0;
    while (delivered < 3000) {
      const n = await worker.deliverDue();
      if (n === 0) break;
      delivered += n;
    }
    const seconds = (performance.now() - start) / 1000;
    if ((await receiver.count()) - before !== delivered) throw new Error("the receiver did not get every delivery");
    console.log(`[${dialect}] outbox delivery, batch ${batchSize}: ${delivered} calls in ${seconds.toFixed(2)} s = ${(delivered / seconds).toFixed(0)} calls/s (load average ${loadAverage()})`);
  }
}

interface Receiver {
  url: string;
  count(): Promise<number>;
  stop(): void;
}

async function startReceiver(): Promise<Receiver> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, "webhook-receiver.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve) => child.stdout.once("data", (chunk) => resolve(Number(String(chunk).trim()))));
  return {
    url: `http://127.0.0.1:${port}/deliveries`,
    count: async () => Number(await (await fetch(`http://127.0.0.1:${port}/count`)).text()),
    stop: () => child.kill(),
  };
}

async function explain(database: Database, query: { sql: string; parameters: readonly unknown[] }): Promise<string> {
  const prefix = database.dialect === "sqlite" ? "explain query plan" : "explain";
  const result = await sql.raw<Record<string, string>>(`${prefix} ${inline(query)}`).execute(database.db);
  return result.rows.map((row) => (row.detail ?? row["QUERY PLAN"])!.trim()).join(" / ");
}

/** The query with its parameters written in, for EXPLAIN (the values are numbers and plain strings). */
function inline({ sql: text, parameters }: { sql: string; parameters: readonly unknown[] }): string {
  const literal = (value: unknown) => (typeof value === "number" ? String(value) : `'${String(value).replace(/'/g, "''")}'`);
  let position = 0;
  return text.replace(/\$(\d+)|\?/g, (match, index) => literal(parameters[index === undefined ? position++ : Number(index) - 1]));
}

function toQueryString(query: CallQuery, page: { limit: number; offset: number }): string {
  const params = new URLSearchParams({ limit: String(page.limit), offset: String(page.offset) });
  for (const [key, value] of Object.entries(query)) {
    for (const item of [value].flat()) params.append(key, String(item));
  }
  return params.toString();
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  await client.query(text);
  await client.end();
}

const loadAverage = () => os.loadavg().map((n) => n.toFixed(1)).join(" ");
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)]!.toFixed(2);
const p95 = (values: number[]) => sorted(values)[Math.floor(values.length * 0.95)]!.toFixed(2);

console.log(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown"})`);
await bench("sqlite");
if (postgresUrl) await bench("postgres");
else console.log("PostgreSQL skipped: set SWITCHBOARD_BENCH_DATABASE_URL to run it too");
