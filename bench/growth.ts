// How list and usage pages grow with data: findMedia, findApiCredentials, findCalls, findTexts and
// getCreditUsage for one account holding 1k, 100k and 1M rows of each, among 10M rows of each in
// all (the other accounts hold the rest), on SQLite and PostgreSQL. Each operation is timed as the
// service call and as the HTTP request through the real server, and its queries' plans are shown
// (SQLite EXPLAIN QUERY PLAN; PostgreSQL EXPLAIN (ANALYZE, BUFFERS) at the largest size).
//
// Run: npx tsx bench/growth.ts --quick     (1k / 10k / 100k among 1M: a few minutes to seed)
//      npx tsx bench/growth.ts             (1k / 100k / 1M among 10M: the full run)
//      SWITCHBOARD_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres adds PostgreSQL
//      (in its own database, switchboard_bench_quick or switchboard_bench_full).
// Seeded databases are kept (SQLite under bench/.data/, git-ignored; PostgreSQL in that database)
// and reused (migrated forward) while the seed is the same; BENCH_RESEED=1 seeds afresh. The first
// full run seeds for about an hour on a busy 2-core machine (quick: about 4 minutes).
// Appends its rows of npm run bench's table (bench/report.sh) and its tables and plans as a section
// to $BENCH_MARKDOWN_OUT when that is set; BENCH_QUICK=1 (npm run bench -- --quick) is --quick.
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
import { backfillUsageDays } from "../src/db/migrations/0011-usage-days.js";
import { buildApp, type Services } from "../src/server.js";
import { filteredActions, actionPage } from "../src/services/actions.js";
import { earliestUsageQuery, usageQuery } from "../src/services/billing.js";
import { callListQuery } from "../src/services/calls.js";
import { boundedCountQuery, pageOfIdsQuery } from "../src/services/paging.js";
import { seedApiCredentials, seedCalls, seedMedia, seedTexts, seedUsage } from "./seed.js";

const quick = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";
const mode = quick ? "quick" : "full";
const sizes = quick ? [1_000, 10_000, 100_000] : [1_000, 100_000, 1_000_000];
const totalRows = quick ? 1_000_000 : 10_000_000;
const fillerAccounts = 7;
const runs = quick ? 30 : 50;
const page = { limit: 100, offset: 0 };
const postgresUrl = process.env.SWITCHBOARD_BENCH_DATABASE_URL;
const dayMs = 86_400_000;
const tables = ["media", "api_credential", "call", "text", "usage_charge"] as const;
const seeders = { media: seedMedia, api_credential: seedApiCredentials, call: seedCalls, text: seedTexts, usage_charge: seedUsage };

/** Bump when bench/seed.ts changes what it seeds: cached databases of another version are reseeded. */
const seedVersion = 3;

interface Seed {
  seedVersion: number;
  mode: string;
  sizes: number[];
  totalRows: number;
  /** The seed's fixed "now": every row is in the year before it. */
  end: number;
  /** The measured account of each size. */
  accounts: Record<string, number>;
}

interface Measured {
  operation: string;
  rows: number;
  items: number | string;
  totalCount: number | string;
  service: number[];
  http: number[];
}

async function bench(dialect: "sqlite" | "postgres"): Promise<{ rows: string[]; section: string }> {
  const dataDir = path.join(import.meta.dirname, ".data", `growth-${mode}`);
  const databaseName = `switchboard_bench_${mode}`;
  const wanted = { seedVersion, mode, sizes, totalRows };

  // A kept seed is migrated forward (new migrations backfill what they add); one of another seed
  // version, or that cannot be migrated (a migration numbered before one it already ran), is redone.
  let database = await open(dialect, dataDir, databaseName);
  let seed = await readSeed(dialect, database, dataDir);
  const same = seed && !process.env.BENCH_RESEED && JSON.stringify(wanted) === JSON.stringify({ seedVersion: seed.seedVersion, mode: seed.mode, sizes: seed.sizes, totalRows: seed.totalRows });
  const migrated = same && (await database.migrate().then(() => true, (error: Error) => (console.log(`[${dialect}] reseeding: ${error.message}`), false)));
  if (!migrated) {
    await database.close();
    await wipe(dialect, dataDir, databaseName);
    database = await open(dialect, dataDir, databaseName);
    await database.migrate();
    seed = undefined;
  }

  const converter = new AudioConverter();
  const config = loadConfig({ dataDir, logLevel: "warn" }, {});
  const { app, services } = await buildApp({ config, database, blobs: new FsBlobStore(path.join(dataDir, "blobs")), converter, adminToken: randomBytes(24).toString("hex") });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  const credentials: Array<{ accountId: number; id: number }> = [];
  try {
    if (!seed) {
      const start = performance.now();
      seed = await seedAll(dialect, database, services, wanted);
      await writeSeed(dialect, database, dataDir, seed);
      console.log(`[${dialect}] seeded ${totalRows.toLocaleString("en")} rows of each of ${tables.join(", ")} in ${((performance.now() - start) / 1000).toFixed(0)} s (load average ${loadAverage()})`);
    } else {
      console.log(`[${dialect}] reusing the seeded database (${dialect === "sqlite" ? dataDir : databaseName})`);
    }

    const measured: Measured[] = [];
    const plans: string[] = [];
    for (const size of sizes) {
      const accountId = seed.accounts[size]!;
      const account = await services.accounts.get(accountId);
      const credential = await services.credentials.create(accountId, "bench growth");
      credentials.push({ accountId, id: credential.id });
      const auth = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
      // Credentials are managed with the account's own login, never with a credential.
      const login = `Basic ${Buffer.from(`${account.email}:bench password`).toString("base64")}`;
      const end = seed.end;
      // The newest calls and texts are not finished (charged) yet: these intervals end before them.
      const charged = end - 40 * dayMs - 5 * 3_600_000;
      const thirtyDays = { intervalBegin: charged - 30 * dayMs, intervalEnd: charged };
      const oneDay = { intervalBegin: charged - dayMs, intervalEnd: charged };
      const db = database.db;
      const mediaQuery = db.selectFrom("media").where("account_id", "=", accountId);
      const credentialQuery = db.selectFrom("api_credential").where("account_id", "=", accountId);
      const calls = callListQuery(db, accountId, {}, page);
      const texts = filteredActions(db, "text", accountId, {});
      const textPage = actionPage(db, "text", accountId, {}, page, (q) =>
        q.leftJoin("usage_charge", "usage_charge.text_id", "text.id").selectAll("text").select(["usage_charge.credits", "usage_charge.texts"]),
      );
      const operations: Array<{
        name: string;
        service: () => Promise<unknown>;
        url: string;
        login?: boolean;
        queries: Array<[string, { sql: string; parameters: readonly unknown[] }]>;
      }> = [
        {
          name: "findMedia",
          service: () => services.media.find(accountId, undefined, page, base),
          url: `/v2/media?limit=${page.limit}`,
          queries: [
            ["page", pageOfIdsQuery(db, "media", mediaQuery, page).compile()],
            ["count", boundedCountQuery(mediaQuery).compile(db)],
          ],
        },
        {
          name: "findApiCredentials",
          service: () => services.credentials.find(accountId, {}, page),
          url: `/v2/me/api/credentials?limit=${page.limit}`,
          login: true,
          queries: [
            ["page", pageOfIdsQuery(db, "api_credential", credentialQuery, page).compile()],
            ["count", boundedCountQuery(credentialQuery).compile(db)],
          ],
        },
        {
          name: "findCalls",
          service: () => services.calls.find(accountId, {}, page, base),
          url: `/v2/calls?limit=${page.limit}`,
          queries: [
            ["page", calls.rows.compile()],
            ["count", boundedCountQuery(calls.counted).compile(db)],
          ],
        },
        {
          name: "findTexts",
          service: () => services.texts.find(accountId, {}, page, base),
          url: `/v2/texts?limit=${page.limit}`,
          queries: [
            ["page", textPage.compile()],
            ["count", boundedCountQuery(texts.counted).compile(db)],
          ],
        },
        {
          name: "getCreditUsage, all time",
          service: () => services.billing.creditUsage(account, { intervalEnd: end }),
          url: `/v2/me/billing/credit-usage?intervalEnd=${end}`,
          queries: [
            ["sums", usageQuery(db, accountId, 946_684_800_000, end).compile()],
            ["earliest", earliestUsageQuery(db, accountId, end).compile()],
          ],
        },
        {
          name: "getCreditUsage, 30 days (not day-aligned)",
          service: () => services.billing.creditUsage(account, thirtyDays),
          url: `/v2/me/billing/credit-usage?intervalBegin=${thirtyDays.intervalBegin}&intervalEnd=${thirtyDays.intervalEnd}`,
          queries: [["sums", usageQuery(db, accountId, thirtyDays.intervalBegin, thirtyDays.intervalEnd).compile()]],
        },
        {
          name: "getCreditUsage, 1 day (not day-aligned)",
          service: () => services.billing.creditUsage(account, oneDay),
          url: `/v2/me/billing/credit-usage?intervalBegin=${oneDay.intervalBegin}&intervalEnd=${oneDay.intervalEnd}`,
          queries: [["sums", usageQuery(db, accountId, oneDay.intervalBegin, oneDay.intervalEnd).compile()]],
        },
      ];
      for (const operation of operations) {
        const analyze = dialect === "postgres" && size === sizes.at(-1);
        for (const [label, query] of operation.queries) {
          plans.push(`${operation.name}, ${size.toLocaleString("en")} rows, ${label}:\n${await explain(database, query, analyze)}`);
        }
        const headers = { authorization: operation.login ? login : auth };
        const response = await fetch(`${base}${operation.url}`, { headers });
        if (response.status !== 200) throw new Error(`${operation.name}: ${response.status} ${await response.text()}`);
        const first = (await response.json()) as { items?: unknown[]; totalCount?: number; creditsUsed?: number };
        const result: Measured = {
          operation: operation.name,
          rows: size,
          items: first.items?.length ?? "-",
          totalCount: first.totalCount ?? `${first.creditsUsed} credits`,
          service: [],
          http: [],
        };
        for (let i = 0; i < runs; i++) {
          let start = performance.now();
          await operation.service();
          result.service.push(performance.now() - start);
          start = performance.now();
          const body = await (await fetch(`${base}${operation.url}`, { headers })).arrayBuffer();
          result.http.push(performance.now() - start);
          if (body.byteLength === 0) throw new Error(`${operation.name}: empty response`);
        }
        measured.push(result);
      }
    }
    return report(dialect, measured, plans);
  } finally {
    for (const { accountId, id } of credentials) await services.credentials.delete(accountId, id).catch(() => {});
    await app.close();
    await converter.close();
    await database.close();
  }
}

/**
 * The measured accounts (one per size) and the filler accounts that hold the rest of each table's
 * rows. The fillers are seeded half before and half after the measured ones, so the measured
 * rows sit in the middle of each table and index.
 */
async function seedAll(dialect: string, database: Database, services: Services, wanted: Omit<Seed, "end" | "accounts">): Promise<Seed> {
  const end = Date.now() - 60_000;
  const suffix = randomBytes(4).toString("hex");
  const accounts: Record<string, number> = {};
  for (const size of sizes) accounts[size] = (await services.accounts.create({ email: `growth-${size}-${suffix}@example.com`, password: "bench password" })).id;
  const fillers: number[] = [];
  for (let i = 0; i < fillerAccounts; i++) fillers.push((await services.accounts.create({ email: `filler-${i}-${suffix}@example.com`, password: "bench password" })).id);
  // A big page cache while bulk-inserting into ten million rows' indexes (the default is 2 MB).
  if (database.dialect === "sqlite") await sql`pragma cache_size = -524288`.execute(database.db);
  const fillerRows = Math.floor((totalRows - sizes.reduce((a, b) => a + b, 0)) / fillerAccounts);
  const order: Array<[number, number]> = [
    ...fillers.slice(0, 4).map((id) => [id, fillerRows] as [number, number]),
    ...sizes.map((size) => [accounts[size]!, size] as [number, number]),
    ...fillers.slice(4).map((id) => [id, fillerRows] as [number, number]),
  ];
  for (const table of tables) {
    const start = performance.now();
    for (const [account, count] of order) await seeders[table](database, account, count, end);
    console.log(`[${dialect}] ${table}: ${totalRows.toLocaleString("en")} rows in ${((performance.now() - start) / 1000).toFixed(0)} s`);
  }
  await backfillUsageDays(database.db);
  // Statistics from a sample of each index: a full ANALYZE reads all fifty million rows' indexes.
  if (database.dialect === "sqlite") await sql`pragma analysis_limit = 1000`.execute(database.db);
  if (database.dialect === "sqlite") await sql`analyze`.execute(database.db);
  else await sql`vacuum analyze`.execute(database.db);
  return { ...wanted, end, accounts };
}

/** The rows of npm run bench's results table (bench/report.sh's columns) and this bench's own section. */
function report(dialect: string, measured: Measured[], plans: string[]): { rows: string[]; section: string } {
  const name = dialect === "sqlite" ? "SQLite" : "PostgreSQL";
  const load = os.loadavg()[0]!.toFixed(1);
  const lines = [
    `Growth on ${name} (${mode}: one account's rows among ${totalRows.toLocaleString("en")} of each table; ${runs} runs each; load average ${loadAverage()}):`,
    "",
    "| operation | account rows | items | totalCount | service median ms | p95 | HTTP median ms | p95 |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...measured.map(
      (m) => `| ${m.operation} | ${m.rows.toLocaleString("en")} | ${m.items} | ${m.totalCount} | ${median(m.service).toFixed(2)} | ${p95(m.service).toFixed(2)} | ${median(m.http).toFixed(2)} | ${p95(m.http).toFixed(2)} |`,
    ),
  ];
  const rows: string[] = [];
  const sizesLabel = sizes.map((s) => s.toLocaleString("en")).join(" / ");
  for (const operation of [...new Set(measured.map((m) => m.operation))]) {
    const series = sizes.map((size) => median(measured.find((m) => m.operation === operation && m.rows === size)!.http));
    const ratio = series.at(-1)! / series[0]!;
    const slowest = Math.max(...series);
    rows.push(
      `| ${operation}, ${name}: HTTP page at ${sizesLabel} rows of one account among ${totalRows.toLocaleString("en")} | ${series.map((v) => v.toFixed(2)).join(" / ")} ms | ${series[0]!.toFixed(2)} ms at ${sizes[0]!.toLocaleString("en")} rows | ${ratio.toFixed(2)} | <= 2, < 20 ms | ${ratio <= 2 && slowest < 20 ? "yes" : "no"} | ${load} |`,
    );
  }
  lines.push("", `<details><summary>Query plans (${dialect})</summary>`, "", "```", ...plans, "```", "", "</details>");
  return { rows, section: lines.join("\n") };
}

async function open(dialect: "sqlite" | "postgres", dataDir: string, databaseName: string): Promise<Database> {
  fs.mkdirSync(dataDir, { recursive: true });
  if (dialect === "sqlite") return openDatabase({ dataDir });
  const exists = await adminQuery(`select 1 from pg_database where datname = '${databaseName}'`);
  if (exists.rowCount === 0) await adminQuery(`create database ${databaseName}`);
  return openDatabase({ url: databaseUrl(databaseName), schema: "public", dataDir });
}

async function wipe(dialect: string, dataDir: string, databaseName: string): Promise<void> {
  if (dialect === "sqlite") {
    // The WAL and its index too: a stale WAL beside a new file would be replayed into it.
    for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(path.join(dataDir, `switchboard.db${suffix}`), { force: true });
    fs.rmSync(path.join(dataDir, "seed.json"), { force: true });
  }
  else await adminQuery(`drop database if exists ${databaseName}`);
}

async function readSeed(dialect: string, database: Database, dataDir: string): Promise<Seed | undefined> {
  if (dialect === "sqlite") {
    const file = path.join(dataDir, "seed.json");
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Seed) : undefined;
  }
  const { rows } = await sql<{ info: string }>`select info from bench_seed`.execute(database.db).catch(() => ({ rows: [] as Array<{ info: string }> }));
  return rows[0] ? (JSON.parse(rows[0].info) as Seed) : undefined;
}

/** Written last: a seed that stopped half-way has no marker and is redone. */
async function writeSeed(dialect: string, database: Database, dataDir: string, seed: Seed): Promise<void> {
  if (dialect === "sqlite") {
    fs.writeFileSync(path.join(dataDir, "seed.json"), JSON.stringify(seed));
    return;
  }
  await sql`create table if not exists bench_seed (info text not null)`.execute(database.db);
  await sql`delete from bench_seed`.execute(database.db);
  await sql`insert into bench_seed (info) values (${JSON.stringify(seed)})`.execute(database.db);
}

function databaseUrl(name: string): string {
  const url = new URL(postgresUrl!);
  url.pathname = `/${name}`;
  return url.toString();
}

async function explain(database: Database, query: { sql: string; parameters: readonly unknown[] }, analyze: boolean): Promise<string> {
  const prefix = database.dialect === "sqlite" ? "explain query plan" : analyze ? "explain (analyze, buffers)" : "explain";
  const result = await sql.raw<Record<string, string>>(`${prefix} ${inline(query)}`).execute(database.db);
  return result.rows.map((row) => `  ${row.detail ?? row["QUERY PLAN"]}`).join("\n");
}

/** The query with its parameters written in, for EXPLAIN (the values are numbers and plain strings). */
function inline({ sql: text, parameters }: { sql: string; parameters: readonly unknown[] }): string {
  const literal = (value: unknown) => (typeof value === "number" ? String(value) : `'${String(value).replace(/'/g, "''")}'`);
  let position = 0;
  return text.replace(/\$(\d+)|\?/g, (_match, index) => literal(parameters[index === undefined ? position++ : Number(index) - 1]));
}

async function adminQuery(text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

const loadAverage = () => os.loadavg().map((n) => n.toFixed(1)).join(" ");
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)]!;
const p95 = (values: number[]) => sorted(values)[Math.floor(values.length * 0.95)]!;

console.log(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown"}), growth ${mode}: ${sizes.join(" / ")} rows among ${totalRows}`);
// BENCH_DIALECTS=postgres (or sqlite) runs one of them only.
const dialects = (["sqlite", "postgres"] as const).filter((d) => !process.env.BENCH_DIALECTS || process.env.BENCH_DIALECTS.split(",").includes(d));
for (const dialect of dialects) {
  if (dialect === "postgres" && !postgresUrl) {
    console.log("PostgreSQL skipped: set SWITCHBOARD_BENCH_DATABASE_URL to run it too.");
    continue;
  }
  const { rows, section } = await bench(dialect);
  console.log([...rows, "", section, ""].join("\n"));
  if (process.env.BENCH_MARKDOWN_OUT) {
    fs.appendFileSync(process.env.BENCH_MARKDOWN_OUT, `${rows.join("\n")}\n<!-- bench-section -->\n${section}\n<!-- /bench-section -->\n`);
  }
}
