import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { postgresUrl, withEmptyPostgresDatabase } from "./support/app.js";
import { runCli } from "./support/cli.js";

// Every command but serve and migrate, each as an operator would type it.
const commands: string[][] = [
  ["account", "list"],
  ["account", "create", "--email", "ops@example.com", "--password", "operator-pass"],
  ["account", "set-password", "--id", "1", "--password", "operator-pass"],
  ["outbox", "list"],
  ["lockout", "list"],
  ["lockout", "lift", "--username", "ops@example.com"],
  ["plan", "set", "--account", "1", "--name", "Gold", "--monthly-credits", "1", "--credits-per-call-minute", "1", "--credits-per-text", "1"],
  ["credits", "add", "--account", "1", "--amount", "1"],
  ["call", "ingest", "--account", "1", "--from", "12135551189", "--to", "13105550100", "--start", "1764300000000", "--duration", "5"],
];

describe("CLI commands on a database that does not exist", () => {
  let workDir: string;
  beforeEach(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-nodb-"));
  });
  afterEach(() => fs.rmSync(workDir, { recursive: true, force: true }));

  it.each(commands)("%s %s refuses a missing SQLite database, naming the setting, and creates nothing", async (...args) => {
    const dataDir = path.join(workDir, "data");
    const result = await runCli([...args, "--data-dir", dataDir]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr:
        `switchboard: there is no Switchboard database in ${dataDir} (SWITCHBOARD_DATA_DIR, --data-dir): point --data-dir at the server's ` +
        "data directory or SWITCHBOARD_DATABASE_URL at its database, or run `switchboard migrate` to create one\n",
    });
    expect(fs.readdirSync(workDir)).toEqual([]);
  });

  it("refuses an existing but empty data directory and leaves it empty; migrate then creates the database", async () => {
    const refused = await runCli(["outbox", "list"], { SWITCHBOARD_DATA_DIR: workDir });
    expect(refused.code).toBe(2);
    expect(fs.readdirSync(workDir)).toEqual([]);
    expect(await runCli(["migrate"], { SWITCHBOARD_DATA_DIR: workDir })).toMatchObject({ code: 0, stdout: "database is up to date\n" });
    expect(await runCli(["outbox", "list"], { SWITCHBOARD_DATA_DIR: workDir })).toMatchObject({ code: 0, stdout: "0 call(s)\n" });
  });

  it.skipIf(!postgresUrl)("refuses a PostgreSQL database without Switchboard's tables, and creates none", async () => {
    await withEmptyPostgresDatabase(async (url) => {
      const result = await runCli(["account", "list"], { SWITCHBOARD_DATABASE_URL: url, SWITCHBOARD_DATA_DIR: workDir });
      expect(result).toEqual({
        code: 2,
        stdout: "",
        stderr:
          "switchboard: the PostgreSQL database of SWITCHBOARD_DATABASE_URL (--database-url) has no Switchboard tables: point --data-dir at the " +
          "server's data directory or SWITCHBOARD_DATABASE_URL at its database, or run `switchboard migrate` to create one\n",
      });
      const tables = new pg.Client({ connectionString: url });
      await tables.connect();
      const { rows } = await tables.query("select table_name from information_schema.tables where table_schema = 'public'");
      await tables.end();
      expect(rows).toEqual([]);
    });
  });
});
