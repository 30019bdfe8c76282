import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type SqliteDatabase, type SqliteStatement } from "kysely";
import pg from "pg";
import { PostgresFleetNotices, singleNode, type FleetNotices } from "./fleet-notices.js";
import { migrationProvider, type Dialect } from "./migrations/index.js";
import type { Tables } from "./tables.js";

export type { Dialect };

export interface Database {
  readonly db: Kysely<Tables>;
  readonly dialect: Dialect;
  /** What the nodes sharing this database tell each other (PostgreSQL; nothing on SQLite). */
  readonly notices: FleetNotices;
  /** Brings the schema up to date; safe to run on every start and from several processes. */
  migrate(): Promise<void>;
  /** Whether migrations ever ran here: false for a new, empty database. */
  hasSchema(): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** PostgreSQL: the connection pool's counts (for /metrics). SQLite has one connection and no pool. */
  readonly pool?: () => { total: number; idle: number; waiting: number };
}

export interface DatabaseOptions {
  /** postgres://… selects PostgreSQL; otherwise SQLite at `<dataDir>/switchboard.db`. */
  url?: string;
  dataDir: string;
  /** PostgreSQL only: the schema to work in (tests use one schema each). */
  schema?: string;
}

export function openDatabase(options: DatabaseOptions): Database {
  return options.url ? openPostgres(options.url, options.schema) : openSqlite(options.dataDir);
}

export function sqliteFile(dataDir: string): string {
  return path.join(dataDir, "switchboard.db");
}

/** The data directory must exist (serve and migrate prepare it: src/data-dir.ts). */
function openSqlite(dataDir: string): Database {
  const file = new SQLite(sqliteFile(dataDir));
  file.pragma("journal_mode = WAL");
  // FULL, not NORMAL: with WAL, NORMAL may lose the last acknowledged commits on power loss.
  file.pragma("synchronous = FULL");
  file.pragma("foreign_keys = ON");
  // The CLI and the server may write the same file at once.
  file.pragma("busy_timeout = 5000");
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(file) }) });
  return wrap(db, "sqlite", singleNode);
}

/**
 * Kysely prepares every query anew, and preparing costs more than running our small queries
 * (measured: about half of a getAccount's database time). Statements are reused per SQL text;
 * Kysely runs one query at a time on its single SQLite connection, so reuse is safe.
 */
function withStatementCache(file: SQLite.Database, capacity = 500): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => file.close(),
    prepare(sqlText: string) {
      let statement = statements.get(sqlText);
      if (!statement) {
        if (statements.size >= capacity) statements.delete(statements.keys().next().value as string);
        statement = file.prepare(sqlText);
        statements.set(sqlText, statement);
      }
      return statement as unknown as SqliteStatement;
    },
  };
}

/**
 * Bounds connecting (not waiting for a pooled connection, which the pool's own option would bound
 * too): an unreachable server fails a request, and the start, in seconds rather than after the
 * operating system's TCP timeout of minutes.
 */
class PgClientWithConnectTimeout extends pg.Client {
  constructor(config: pg.ClientConfig = {}) {
    super({ ...config, connectionTimeoutMillis: 5_000 });
  }
}

function openPostgres(url: string, schema?: string): Database {
  const pool = new pg.Pool({
    connectionString: url,
    Client: PgClientWithConnectTimeout,
    max: 10,
    // search_path keeps every query unqualified, whichever schema we were given.
    options: schema ? `-c search_path=${schema}` : undefined,
    // BIGINT (ids, millisecond times, credit sums) comes back as a number: every value we store
    // stays below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  });
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  return wrap(db, "postgres", new PostgresFleetNotices(db, url, schema), schema, () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }));
}

function wrap(db: Kysely<Tables>, dialect: Dialect, notices: FleetNotices, schema?: string, pool?: Database["pool"]): Database {
  return {
    db,
    dialect,
    notices,
    pool,
    async migrate() {
      // Kysely looks for its migration tables in every schema unless told which: another
      // schema's (a parallel test's) would pass for ours.
      // Kysely's migration lock on SQLite only guards its one connection, and processes started
      // together on one file then run the same migrations twice. Instead the whole run is one
      // transaction of ours that takes the write lock first: the others wait (busy_timeout), then
      // find nothing to do. (The single connection keeps the transaction across Kysely's queries.)
      const sqlite = dialect === "sqlite";
      const migrator = new Migrator({ db, provider: migrationProvider(dialect), migrationTableSchema: schema, disableTransactions: sqlite });
      if (sqlite) await sql`begin immediate`.execute(db);
      const { error, results } = await migrator.migrateToLatest();
      if (sqlite) await sql.raw(error ? "rollback" : "commit").execute(db);
      const failed = results?.find((r) => r.status === "Error");
      // No migration failed: the database could not be reached or read at all.
      if (error && !failed) throw error;
      if (failed) throw new Error(`migration ${failed.migrationName} failed: ${String((error as Error)?.message ?? error)}`);
    },
    async hasSchema() {
      const found =
        dialect === "sqlite"
          ? await sql`select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'`.execute(db)
          : await sql`select 1 where to_regclass('kysely_migration') is not null`.execute(db);
      return found.rows.length > 0;
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await notices.close();
      await db.destroy();
    },
  };
}
