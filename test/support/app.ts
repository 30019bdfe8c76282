import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import pg from "pg";
import { describe } from "vitest";
import { AudioConverter } from "../../src/audio/audio-converter.js";
import { FsBlobStore, type BlobStore } from "../../src/blobs/index.js";
import { loadConfig, type RawSettings } from "../../src/config.js";
import { openDatabase, type Database } from "../../src/db/database.js";
import { buildApp, type AppDependencies, type Services } from "../../src/server.js";

export type DialectName = "sqlite" | "postgres";

/** PostgreSQL runs when SWITCHBOARD_TEST_DATABASE_URL points at one (CI sets it). */
export const postgresUrl = process.env.SWITCHBOARD_TEST_DATABASE_URL;

export const dialects: DialectName[] = postgresUrl ? ["sqlite", "postgres"] : ["sqlite"];

/** Runs the same suite on every dialect available, and says so when PostgreSQL is skipped. */
export function describeEachDialect(name: string, suite: (dialect: DialectName) => void): void {
  for (const dialect of ["sqlite", "postgres"] as const) {
    if (dialect === "postgres" && !postgresUrl) {
      describe.skip(`${name} [postgres: skipped, SWITCHBOARD_TEST_DATABASE_URL is not set]`, () => suite(dialect));
    } else {
      describe(`${name} [${dialect}]`, () => suite(dialect));
    }
  }
}

export interface TestApp {
  baseUrl: string;
  adminToken: string;
  services: Services;
  database: Database;
  blobs: BlobStore;
  dataDir: string;
  close(): Promise<void>;
}

/** A throwaway database: a temp SQLite directory, or a fresh PostgreSQL schema. */
export async function openTestDatabase(dialect: DialectName): Promise<{ database: Database; dataDir: string; drop(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-test-"));
  if (dialect === "sqlite") {
    const database = openDatabase({ dataDir });
    await database.migrate();
    return { database, dataDir, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  }
  const schema = `test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const database = openDatabase({ url: postgresUrl, dataDir, schema });
  await database.migrate();
  return {
    database,
    dataDir,
    drop: async () => {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`drop schema ${schema} cascade`);
      await client.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The real server on an ephemeral loopback port; `settings` as `serve` takes them (flags). */
export async function startTestApp(
  dialect: DialectName,
  { settings, ...overrides }: Partial<AppDependencies> & { settings?: RawSettings } = {},
  extraRoutes?: (app: FastifyInstance) => void,
): Promise<TestApp> {
  const { database, dataDir, drop } = await openTestDatabase(dialect);
  const adminToken = randomBytes(24).toString("hex");
  const config = loadConfig({ dataDir, logLevel: overrides.logStream ? "info" : "silent", port: "0", ...settings }, {});
  const blobs = overrides.blobs ?? new FsBlobStore(path.join(dataDir, "blobs"));
  const converter = overrides.converter ?? new AudioConverter();
  const { app, services } = await buildApp({ config, database, blobs, converter, adminToken, ...overrides });
  extraRoutes?.(app);
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    baseUrl: address,
    adminToken,
    services,
    database,
    dataDir,
    blobs,
    async close() {
      await app.close();
      if (!overrides.converter) await converter.close();
      await database.close();
      await drop();
    },
  };
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

export interface TestAccount {
  id: number;
  email: string;
  password: string;
  /** Authorization header for the account login. */
  login: string;
  /** Authorization header for an API credential of the account. */
  api: string;
  apiUsername: string;
}

let accountCounter = 0;

export async function createTestAccount(app: TestApp): Promise<TestAccount> {
  const email = `user${++accountCounter}-${randomBytes(3).toString("hex")}@example.com`;
  const password = "correct horse battery";
  const account = await app.services.accounts.create({ email, password, name: "Test Account", firstName: "Test", lastName: "User" });
  const credential = await app.services.credentials.create(account.id, "test");
  return {
    id: account.id,
    email,
    password,
    login: basic(email, password),
    api: basic(credential.username, credential.password),
    apiUsername: credential.username,
  };
}

export async function call(
  app: TestApp,
  method: string,
  path: string,
  options: { auth?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth) headers.authorization = options.auth;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${app.baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/**
 * Runs `test` with the URL of a new, empty PostgreSQL database, dropped afterwards: what a process
 * given only SWITCHBOARD_DATABASE_URL sees (it cannot be pointed at a schema).
 */
export async function withEmptyPostgresDatabase(test: (url: string) => Promise<void>): Promise<void> {
  const database = await createEmptyPostgresDatabase();
  try {
    await test(database.url);
  } finally {
    await database.drop();
  }
}

/** A new, empty PostgreSQL database and how to drop it (with whatever is still connected to it). */
export async function createEmptyPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `switchboard_${randomBytes(6).toString("hex")}`;
  const query = async (text: string) => {
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      await admin.query(text);
    } finally {
      await admin.end();
    }
  };
  await query(`create database ${name}`);
  const url = new URL(postgresUrl!);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => query(`drop database if exists ${name} with (force)`) };
}
