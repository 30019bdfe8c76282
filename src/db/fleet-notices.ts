import { sql, type Kysely } from "kysely";
import pg from "pg";
import type { Tables } from "./tables.js";

/**
 * What one node tells every node of its fleet at once: something that authenticated may no longer.
 * Each node drops what it cached about it; a node that misses the notice still forgets within its
 * cache TTL.
 */
export type FleetNotice =
  | { kind: "credentialRevoked"; id: number }
  | { kind: "passwordChanged"; accountId: number }
  /** Every principal of the account: its login and all its credentials. */
  | { kind: "accountRevoked"; accountId: number }
  /** An operator lifted the lockout of this (throttled) username: the nodes that saw it forget it. */
  | { kind: "lockoutLifted"; username: string }
  | { kind: "adminTokenRotated" };

export interface NoticeLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface FleetNotices {
  /** Sends `notice` to every node listening (this one included). Never rejects: a notice that cannot be sent is logged, and the TTLs bound the harm. */
  publish(notice: FleetNotice): Promise<void>;
  /**
   * `onNotice` gets every notice published anywhere while this node listens; `onMissed` runs when
   * notices may have been lost (the listening connection broke and is back), so caches are flushed.
   */
  subscribe(onNotice: (notice: FleetNotice) => void, onMissed: () => void): void;
  /** Starts listening (serve does; the CLI only publishes). Resolves once the first LISTEN is in place, or failed and is being retried. */
  listen(log: NoticeLog): Promise<void>;
  /** Ends one `listen`: the connection closes when the last listener is gone (several apps may share a database in tests). */
  unlisten(): Promise<void>;
  /** Stops listening whoever listens (the database closes). */
  close(): Promise<void>;
}

/** SQLite: one node, whose services drop their own caches; nothing to tell. */
export const singleNode: FleetNotices = {
  async publish() {},
  subscribe() {},
  async listen() {},
  async unlisten() {},
  async close() {},
};

const firstRetryMs = 250;
const longestRetryMs = 10_000;

/**
 * PostgreSQL LISTEN/NOTIFY on one channel per database (and schema, which tests use one each). The
 * listening connection is its own client, not one of the pool: a pooled connection is handed to
 * queries and LISTEN would not stay on it. When it breaks, it reconnects with backoff (250 ms,
 * doubling to 10 s); until then caches expire by their TTL, and once back every cache is flushed,
 * since notices sent in between are lost.
 */
export class PostgresFleetNotices implements FleetNotices {
  readonly channel: string;
  private readonly subscribers: Array<{ onNotice: (notice: FleetNotice) => void; onMissed: () => void }> = [];
  private client?: pg.Client;
  private retryTimer?: NodeJS.Timeout;
  private listening = false;
  private listeners = 0;
  private log?: NoticeLog;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly url: string,
    schema?: string,
  ) {
    this.channel = schema ? `switchboard_revocations_${schema}` : "switchboard_revocations";
  }

  async publish(notice: FleetNotice): Promise<void> {
    try {
      await sql`select pg_notify(${this.channel}, ${JSON.stringify(notice)})`.execute(this.db);
    } catch (error) {
      this.log?.warn({ err: error, notice }, "could not notify the other nodes; they forget within their cache TTL");
    }
  }

  subscribe(onNotice: (notice: FleetNotice) => void, onMissed: () => void): void {
    this.subscribers.push({ onNotice, onMissed });
  }

  async listen(log: NoticeLog): Promise<void> {
    this.log = log;
    this.listeners++;
    if (this.listening) return;
    this.listening = true;
    await this.connect(0);
  }

  async unlisten(): Promise<void> {
    this.listeners = Math.max(0, this.listeners - 1);
    if (this.listeners === 0) await this.close();
  }

  async close(): Promise<void> {
    this.listeners = 0;
    this.listening = false;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(failures: number): Promise<void> {
    if (!this.listening) return;
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000, keepAlive: true, application_name: "switchboard notices" });
    this.client = client;
    let lost = false;
    let listened = false;
    const reconnect = (error: unknown) => {
      if (lost || !this.listening || this.client !== client) return;
      lost = true;
      this.client = undefined;
      client.end().catch(() => {});
      // Failed attempts in a row, this one included: the backoff starts over after a success.
      const next = listened ? 1 : failures + 1;
      const delay = Math.min(longestRetryMs, firstRetryMs * 2 ** (next - 1));
      this.log?.warn({ err: error, retryInMs: delay }, "lost the revocation notices of the other nodes; caches expire by their TTL until they are back");
      this.retryTimer = setTimeout(() => void this.connect(next), delay);
      this.retryTimer.unref();
    };
    client.on("error", reconnect);
    client.on("end", () => reconnect(new Error("connection ended")));
    client.on("notification", (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      const notice = JSON.parse(message.payload) as FleetNotice;
      for (const subscriber of this.subscribers) subscriber.onNotice(notice);
    });
    try {
      await client.connect();
      await client.query(`listen "${this.channel}"`);
    } catch (error) {
      reconnect(error);
      return;
    }
    listened = true;
    if (failures > 0) {
      this.log?.info({}, "revocation notices of the other nodes are back; caches flushed");
      for (const subscriber of this.subscribers) subscriber.onMissed();
    }
  }
}
