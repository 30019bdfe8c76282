import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { AudioConverter } from "../../src/audio/audio-converter.js";
import { FsBlobStore } from "../../src/blobs/index.js";
import { loadConfig, type RawSettings } from "../../src/config.js";
import { openDatabase, type Database } from "../../src/db/database.js";
import { buildApp } from "../../src/server.js";
import { postgresUrl, type DialectName, type TestApp } from "./app.js";

/** A clock tests move by hand: expiry, throttles and backoff without sleeping. */
export function testClock(start = Date.now()) {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}

/**
 * A database that outlives the apps built on it, reopened as a restarted server would: a temp
 * SQLite directory, or a fresh PostgreSQL schema.
 */
export async function persistentTestDatabase(
  dialect: DialectName,
): Promise<{ dataDir: string; schema?: string; open(): Promise<Database>; drop(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-callerids-"));
  const schema = `test_${randomBytes(6).toString("hex")}`;
  const admin = async (query: string) => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(query);
    await client.end();
  };
  if (dialect === "postgres") await admin(`create schema ${schema}`);
  return {
    dataDir,
    schema: dialect === "postgres" ? schema : undefined,
    async open() {
      const database = dialect === "sqlite" ? openDatabase({ dataDir }) : openDatabase({ url: postgresUrl, dataDir, schema });
      await database.migrate();
      return database;
    },
    async drop() {
      if (dialect === "postgres") await admin(`drop schema ${schema} cascade`);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The real server on a loopback port over `database`; closing it leaves the database open. */
export async function startAppOn(
  database: Database,
  options: { settings?: RawSettings; now?: () => number; logStream?: NodeJS.WritableStream } = {},
): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-callerids-app-"));
  const config = loadConfig({ dataDir, logLevel: options.logStream ? "info" : "silent", port: "0", ...options.settings }, {});
  const blobs = new FsBlobStore(path.join(dataDir, "blobs"));
  const converter = new AudioConverter();
  const adminToken = randomBytes(24).toString("hex");
  const { app, services } = await buildApp({ config, database, blobs, converter, adminToken, now: options.now, logStream: options.logStream });
  const baseUrl = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    baseUrl,
    adminToken,
    services,
    database,
    blobs,
    dataDir,
    async close() {
      await app.close();
      await converter.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedCall {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
}

/** How the receiver answers one request: a status, after an optional delay, or never. */
export type Answer = number | { status: number; afterMs: number } | "hang";

/**
 * A webhook receiver on a loopback port (ephemeral unless given). It answers each request with the
 * next queued answer (200 once the queue is empty) and records every request it got.
 */
export async function startWebhookReceiver(port = 0) {
  const received: ReceivedCall[] = [];
  const answers: Answer[] = [];
  const server = http.createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body, json: JSON.parse(body) });
      const answer = answers.shift() ?? 200;
      if (answer === "hang") return;
      const respond = (status: number) => response.writeHead(status, { "content-type": "text/plain" }).end(status >= 300 ? "receiver says no" : "ok");
      if (typeof answer === "number") respond(answer);
      else setTimeout(() => respond(answer.status), answer.afterMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/calls`,
    port: address.port,
    received,
    /** Queues the answers to the next requests. */
    answer(...next: Answer[]) {
      answers.push(...next);
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export const webhookSecret = "test-webhook-secret-0123456789";
