import { Gauge, type Registry } from "prom-client";
import type { Database } from "../db/database.js";
import { deliveryTypes } from "../services/call-outbox.js";

/** A scrape waits this long for the database, then answers without the outbox gauges. */
export const backlogTimeoutMs = 2_000;

interface Backlog {
  byType: Map<string, { count: number; oldest: number }>;
}

/**
 * Gauges read on scrape: the outbox backlog (one grouped query over the undelivered rows, found
 * through the call_outbox_due index on status) and, on PostgreSQL, the connection pool. A slow
 * database costs a scrape at most `backlogTimeoutMs`: the backlog gauges are then left out and
 * switchboard_outbox_backlog_ok reads 0. Scrapes that come while a query is still running wait for
 * that one rather than start another.
 */
export function registerDatabaseGauges(registry: Registry, database: Database, now: () => number = Date.now): void {
  let inflight: Promise<Backlog> | undefined;
  const backlog = (): Promise<Backlog | undefined> => {
    inflight ??= readBacklog(database).finally(() => (inflight = undefined));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), backlogTimeoutMs);
    });
    return Promise.race([inflight.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
  };

  const registers = [registry];
  new Gauge({
    name: "switchboard_outbox_undelivered",
    help: "Outbox rows not delivered yet (PENDING: due, waiting for a retry, or a simulated outcome not due yet) by type",
    labelNames: ["type"] as const,
    registers,
    async collect() {
      this.reset();
      const found = await backlog();
      if (found) for (const type of deliveryTypes) this.set({ type }, found.byType.get(type)?.count ?? 0);
    },
  });
  new Gauge({
    name: "switchboard_outbox_oldest_undelivered_age_seconds",
    help: "Age of the oldest outbox row not delivered yet, by type (0 when there is none)",
    labelNames: ["type"] as const,
    registers,
    async collect() {
      this.reset();
      const found = await backlog();
      if (!found) return;
      const time = now();
      for (const type of deliveryTypes) {
        const oldest = found.byType.get(type)?.oldest;
        this.set({ type }, oldest === undefined ? 0 : Math.max(0, (time - oldest) / 1000));
      }
    },
  });
  new Gauge({
    name: "switchboard_outbox_backlog_ok",
    help: `1 if the outbox backlog could be read within ${backlogTimeoutMs} ms on the last scrape, else 0`,
    registers,
    async collect() {
      // The same query as the two above: their collects start in the same tick.
      this.set((await backlog()) ? 1 : 0);
    },
  });

  const pool = database.pool;
  if (!pool) return;
  // PostgreSQL's pool; SQLite has one connection and no pool, so these are not published there.
  new Gauge({
    name: "switchboard_db_pool_connections",
    help: "Database connections open in the pool, by state (in_use, idle)",
    labelNames: ["state"] as const,
    registers,
    collect() {
      const { total, idle } = pool();
      this.set({ state: "in_use" }, total - idle);
      this.set({ state: "idle" }, idle);
    },
  });
  new Gauge({
    name: "switchboard_db_pool_waiting",
    help: "Queries waiting for a database connection from the pool",
    registers,
    collect() {
      this.set(pool().waiting);
    },
  });
}

async function readBacklog({ db }: Database): Promise<Backlog> {
  const rows = await db
    .selectFrom("call_outbox")
    .select((eb) => ["type", eb.fn.countAll<number>().as("count"), eb.fn.min<number>("created").as("oldest")])
    .where("status", "=", "PENDING")
    .groupBy("type")
    .execute();
  return { byType: new Map(rows.map((row) => [row.type, { count: Number(row.count), oldest: Number(row.oldest) }])) };
}
