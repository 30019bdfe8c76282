import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { Kysely } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AudioConverter } from "../src/audio/audio-converter.js";
import { FsBlobStore } from "../src/blobs/index.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import type { Tables } from "../src/db/tables.js";
import { createServices, type Services } from "../src/server.js";
import { describeEachDialect, postgresUrl } from "./support/app.js";
import { runCli } from "./support/cli.js";
import { fixture } from "./support/media.js";
import { blobKeysOf, rowsOf } from "./support/operator.js";

// Every operator operation the CLI has for accounts, calls, recordings, media and texts, on the
// database the server uses, with the exit codes the README documents.

const fixtures = path.resolve(import.meta.dirname, "fixtures/media");

describeEachDialect("the switchboard operator commands", (dialect) => {
  let dataDir: string;
  let env: Record<string, string>;
  let databaseName: string | undefined;
  const cli = async (...args: string[]) => runCli(args, env);
  const json = async (...args: string[]) => {
    const result = await runCli([...args, "--json"], env);
    expect(result.stderr, args.join(" ")).toBe("");
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout);
  };

  /** The services on the CLI's database, as a test sets up and checks what the commands did. */
  async function withServices<T>(work: (services: Services, db: Kysely<Tables>) => Promise<T>): Promise<T> {
    const database = openDatabase(databaseName ? { url: env.SWITCHBOARD_DATABASE_URL!, dataDir } : { dataDir });
    const converter = new AudioConverter();
    try {
      const config = loadConfig({ dataDir, logLevel: "silent" }, {});
      return await work(createServices({ config, database, blobs: new FsBlobStore(path.join(dataDir, "blobs")), converter }), database.db);
    } finally {
      await converter.close();
      await database.close();
    }
  }

  const pgAdmin = async (query: string) => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(query);
    await client.end();
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-operator-cli-"));
    env = { SWITCHBOARD_DATA_DIR: dataDir };
    if (dialect === "postgres") {
      databaseName = `switchboard_cli_${randomBytes(6).toString("hex")}`;
      await pgAdmin(`create database ${databaseName}`);
      const url = new URL(postgresUrl!);
      url.pathname = `/${databaseName}`;
      env.SWITCHBOARD_DATABASE_URL = url.toString();
    }
    expect((await cli("migrate")).code).toBe(0);
    for (const email of ["alice@example.com", "bob@example.com"]) expect((await cli("account", "create", "--email", email, "--password", "operator-pass")).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    if (databaseName) await pgAdmin(`drop database ${databaseName} with (force)`);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const ingest = (account: number, externalId: string, recording: string, duration = "95") =>
    json("call", "ingest", "--account", String(account), "--from", "12135551189", "--to", "13105550100", "--start", "2026-11-28T09:30:00Z", "--duration", duration, "--external-id", externalId, "--recording", path.join(fixtures, recording));

  it("ingests a call with its recording again as a success with the same ids; other content under the same id is a conflict (exit 3)", async () => {
    const first = await ingest(1, "pbx-1", "tone.wav");
    expect(first).toMatchObject({ call: { id: 1, accountId: 1, charge: { minutes: 2 } }, recording: { id: 1, callId: 1, name: "tone", state: "READY" } });
    expect(await ingest(1, "pbx-1", "tone.wav")).toEqual(first);
    const base = ["call", "ingest", "--account", "1", "--from", "12135551189", "--to", "13105550100", "--start", "2026-11-28T09:30:00Z", "--external-id", "pbx-1"];
    // Another recording file under the same name.
    expect(await cli(...base, "--duration", "95", "--recording", path.join(fixtures, "tone.mp3"), "--recording-name", "tone")).toMatchObject({
      code: 3,
      stderr: 'switchboard: call 1 already has a recording named "tone"\n',
    });
    // Another call under the same external id.
    expect(await cli(...base, "--duration", "96")).toMatchObject({ code: 3, stderr: "switchboard: externalId pbx-1 was already used for call 1, with other details\n" });
    const usage = await withServices((services) => services.billing.creditUsage({ id: 1, created: 0 }, { intervalBegin: 0 }));
    expect(usage).toMatchObject({ callsDurationMinutes: 2 });
    expect(await withServices(async (services) => (await services.recordings.adminList({ callId: 1 }, { limit: 10, offset: 0 }, "http://x")).totalCount)).toBe(1);
  }, 180_000);

  it("lists and gets calls, recordings, media and texts of every account or one", async () => {
    await ingest(2, "pbx-2", "tone.mp3", "30");
    const media = await withServices(async (services) => {
      const stored = [];
      for (const account of [1, 2]) stored.push((await services.media.create(account, await services.media.store(Readable.from([fixture("image.png")]), "logo.png"), undefined)).id);
      await services.texts.ingest(2, { fromNumber: "12135551189", toNumber: "13105550100", message: "hi" });
      return stored;
    });

    expect(await cli("call", "list")).toMatchObject({ code: 0, stdout: "2 call(s)\n2\t2\t12135551189\t13105550100\tFINISHED\tLA\t2026-11-28T09:30:00.000Z\t30 s\n1\t1\t12135551189\t13105550100\tFINISHED\tLA\t2026-11-28T09:30:00.000Z\t95 s\n" });
    const filtered = ["--account-id", "1", "--state", "FINISHED", "--interval-begin", "2026-11-28T09:30:00Z", "--interval-end", "1796000000000", "--limit", "1", "--offset", "0"];
    expect(await json("call", "list", ...filtered)).toEqual({ items: [expect.objectContaining({ id: 1, accountId: 1 })], limit: 1, offset: 0, totalCount: 1 });
    expect(await json("call", "get", "--id", "2")).toMatchObject({ id: 2, accountId: 2, durationSeconds: 30, charge: { minutes: 1 } });

    const [bobRecording] = (await json("recording", "list", "--account-id", "2")).items;
    expect(bobRecording).toMatchObject({ accountId: 2, callId: 2, name: "tone" });
    expect(await json("recording", "get", "--id", "1")).toMatchObject({ id: 1, accountId: 1, callId: 1, mp3Url: "http://127.0.0.1:8080/v2/calls/recordings/1.mp3" });
    expect((await json("media", "list", "--account-id", "1")).items).toEqual([expect.objectContaining({ id: media[0], accountId: 1, name: "logo.png" })]);
    expect((await json("text", "list", "--account-id", "2")).items).toEqual([expect.objectContaining({ accountId: 2, message: "hi" })]);
  }, 180_000);

  it("exits 2 for a usage error or something not found, and 0 for help", async () => {
    // Not found: the same answer from every command that takes an id (one of each kind here).
    const notFound = [
      ["recording", "delete", "--id", "99"],
      ["media", "delete", "--id", "99"],
      ["text", "delete", "--id", "99"],
      ["account", "disable", "--id", "99"],
    ];
    // Usage errors, found before the database is opened: the same on every dialect.
    const usage = [
      ["call", "list", "--state", "DONE"],
      ["call", "list", "--interval-begin", "yesterday"],
      ["call", "delete"],
      ["call", "remove", "--id", "1"],
    ];
    for (const args of dialect === "sqlite" ? [...notFound, ...usage] : notFound) {
      const result = await cli(...args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).not.toBe("");
    }
    if (dialect === "sqlite") expect((await cli("call", "--help")).code).toBe(0);
  }, 180_000);

  it("deletes a recording, a text, media and a call, with their files", async () => {
    const keys = await withServices((_services, db) => blobKeysOf(db, 2));
    expect(keys).toHaveLength(2); // bob's image and his call's recording
    const [recording] = (await json("recording", "list", "--account-id", "2")).items;
    expect(await json("recording", "delete", "--id", String(recording.id))).toEqual({ id: recording.id, deleted: true });
    expect(await cli("recording", "get", "--id", String(recording.id))).toMatchObject({ code: 2, stderr: `switchboard: call recording ${recording.id} not found\n` });
    const [text] = (await json("text", "list", "--account-id", "2")).items;
    expect(await cli("text", "delete", "--id", String(text.id))).toMatchObject({ code: 0, stdout: `deleted text ${text.id}\n` });
    const [bobMedia] = (await json("media", "list", "--account-id", "2")).items;
    expect(await cli("media", "delete", "--id", String(bobMedia.id))).toMatchObject({ code: 0, stdout: `deleted media ${bobMedia.id}\n` });
    expect(await json("call", "delete", "--id", "2")).toEqual({ id: 2, deleted: true });
    expect(await cli("call", "get", "--id", "2")).toMatchObject({ code: 2, stderr: "switchboard: call 2 not found\n" });
    await withServices(async (services) => {
      for (const key of keys) expect(await services.media.blobs.stat(key)).toBeUndefined();
    });
    // The call's charge stays.
    expect(await withServices((services) => services.billing.creditUsage({ id: 2, created: 0 }, { intervalBegin: 0 }))).toMatchObject({ callsDurationMinutes: 1 });
  }, 180_000);

  it("disables and enables an account, and deletes one without touching the other", async () => {
    const disabled = await json("account", "disable", "--id", "1");
    expect(disabled).toMatchObject({ id: 1, email: "alice@example.com", disabledAt: expect.any(Number) });
    expect(await withServices((services) => services.accounts.verifyLogin("alice@example.com", "operator-pass"))).toBeUndefined();
    expect(await cli("account", "enable", "--id", "1")).toMatchObject({ code: 0, stdout: "account 1 (alice@example.com) is enabled\n" });
    expect(await withServices((services) => services.accounts.verifyLogin("alice@example.com", "operator-pass"))).toMatchObject({ id: 1 });

    const { keys, bobBefore } = await withServices(async (_services, db) => {
      return { keys: await blobKeysOf(db, 1), bobBefore: await rowsOf(db, 2) };
    });
    expect(keys.length).toBeGreaterThan(0);
    expect(await cli("account", "delete", "--id", "1")).toMatchObject({ code: 0, stdout: "deleted account 1\n" });
    expect(await cli("account", "delete", "--id", "1")).toMatchObject({ code: 2, stderr: "switchboard: account 1 not found\n" });
    await withServices(async (services, db) => {
      const { usage_charge: ledger, credit_adjustment: _adjustments, ...rest } = await rowsOf(db, 1);
      expect(Object.entries(rest).filter(([, rows]) => rows.length > 0)).toEqual([]);
      expect(ledger).toHaveLength(1);
      expect(await rowsOf(db, 2)).toEqual(bobBefore);
      for (const key of keys) expect(await services.media.blobs.stat(key)).toBeUndefined();
    });
    expect((await json("account", "list")).items.map((a: { id: number }) => a.id)).toEqual([2]);
  }, 180_000);
});
