import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { basic } from "./support/app.js";
import { runCli, startCli } from "./support/cli.js";

describe("the switchboard command", () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-cli-"));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("creates, lists and re-passwords accounts, printing JSON with --json", async () => {
    expect(await runCli(["migrate", "--data-dir", dataDir])).toMatchObject({ code: 0, stdout: "database is up to date\n" });
    const created = await runCli(["account", "create", "--email", "ops@example.com", "--password", "operator-pass", "--name", "Ops", "--json", "--data-dir", dataDir]);
    expect(created.code).toBe(0);
    const account = JSON.parse(created.stdout);
    expect(account).toMatchObject({ id: 1, email: "ops@example.com", name: "Ops" });

    const duplicate = await runCli(["account", "create", "--email", "ops@example.com", "--password", "operator-pass"], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(duplicate.code).toBe(3);
    expect(duplicate.stderr).toBe("switchboard: an account with email ops@example.com already exists\n");

    const listed = await runCli(["account", "list", "--json"], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(JSON.parse(listed.stdout)).toMatchObject({ totalCount: 1, items: [{ id: 1, email: "ops@example.com" }] });
    const human = await runCli(["account", "list"], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(human.stdout).toBe("1 account(s)\n1\tops@example.com\tOps\n");

    const changed = await runCli(["account", "set-password", "--id", "1", "--password", "new-operator-pass"], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(changed).toMatchObject({ code: 0, stdout: "password changed for account 1\n" });
    const tooShort = await runCli(["account", "set-password", "--id", "1", "--password", "short"], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(tooShort).toMatchObject({ code: 2, stderr: "switchboard: password: must be 8 to 1024 characters\n" });
    const unknown = await runCli(["account", "set-password", "--id", "9", "--password", "long-enough"], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(unknown).toMatchObject({ code: 2, stderr: "switchboard: account 9 not found\n" });
  });

  it.each([
    [["--port", "http"], "switchboard: SWITCHBOARD_PORT (--port): \"http\" is not a port number (0-65535)\n"],
    [["--log-level", "loud"], "switchboard: SWITCHBOARD_LOG_LEVEL (--log-level): \"loud\" is not one of fatal, error, warn, info, debug, trace, silent\n"],
    [["--database-url", "mysql://x"], "switchboard: SWITCHBOARD_DATABASE_URL (--database-url): \"mysql://x\" is not a postgres:// URL (leave it unset for SQLite)\n"],
    [["--public-url", "example.com"], "switchboard: SWITCHBOARD_PUBLIC_URL (--public-url): \"example.com\" is not an absolute URL\n"],
    [["--admin-token", "short"], "switchboard: SWITCHBOARD_ADMIN_TOKEN (--admin-token): must be at least 16 characters\n"],
  ])("refuses to serve with %j and says why", async (flags, message) => {
    const result = await runCli(["serve", "--data-dir", dataDir, ...flags]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(message);
  });

  it("reads settings from the environment too", async () => {
    const result = await runCli(["serve"], { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_PORT: "99999" });
    expect(result).toMatchObject({ code: 2, stderr: 'switchboard: SWITCHBOARD_PORT (--port): "99999" is not a port number (0-65535)\n' });
  });

  it("serves with a printed demo account and a 0600 admin token, then shuts down cleanly on SIGTERM", async () => {
    // What an upload cut short by a crash ten minutes ago left behind.
    const crashed = path.join(dataDir, "blobs", "tmp", "crashed-upload");
    fs.mkdirSync(path.dirname(crashed), { recursive: true });
    fs.writeFileSync(crashed, "half a file");
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
    fs.utimesSync(crashed, tenMinutesAgo, tenMinutesAgo);

    const server = startCli(["serve", "--port", "0", "--log-level", "warn"], { SWITCHBOARD_DATA_DIR: dataDir });
    let output = "";
    server.stdout.on("data", (chunk) => (output += chunk));
    server.stderr.on("data", (chunk) => (output += chunk));
    await new Promise<void>((resolve, reject) => {
      server.stdout.on("data", () => output.includes("curl -u") && resolve());
      server.on("exit", () => reject(new Error(`server exited early:\n${output}`)));
    });

    // A log line: it may reach the pipe after the printed banner.
    await vi.waitFor(() => expect(output).toContain("removed 1 temporary upload file(s) of puts that were cut short"));
    expect(fs.existsSync(crashed)).toBe(false);

    const curl = /curl -u (\S+):(\S+) (\S+)\n/.exec(output)!;
    const [, username, password, url] = curl;
    const account = await fetch(url!, { headers: { authorization: basic(username!, password!) } });
    expect(account.status).toBe(200);
    expect(await account.json()).toMatchObject({ email: "demo@switchboard.local", permissions: ["ACCOUNT_HOLDER", "API"] });
    const planUsage = await fetch(url!.replace("/me/account", "/me/billing/plan-usage"), { headers: { authorization: basic(username!, password!) } });
    expect((await planUsage.json()).totalRemainingCredits).toBe(100);

    const login = /login \(account credentials\): (\S+) \/ (\S+)\n/.exec(output)!;
    const credentials = await fetch(url!.replace("/me/account", "/me/api/credentials"), { headers: { authorization: basic(login[1]!, login[2]!) } });
    expect((await credentials.json()).totalCount).toBe(1);

    const tokenFile = path.join(dataDir, "admin-token");
    expect(output).toContain(`operator token: in ${tokenFile}`);
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = fs.readFileSync(tokenFile, "utf8").trim();
    const adminUrl = url!.replace("/v2/me/account", "/admin/v1/accounts");
    const admin = await fetch(adminUrl, { headers: { authorization: `Bearer ${token}` } });
    expect((await admin.json()).totalCount).toBe(1);

    // Rotated while the server runs: the file is replaced, and the server takes the new token
    // (and refuses the old one) within 5 s, without a restart.
    const rotated = await runCli(["admin-token", "rotate"], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(rotated).toMatchObject({ code: 0, stderr: "" });
    const newToken = /new admin token: (\S+) \(in (\S+)\)/.exec(rotated.stdout)!;
    expect(newToken[2]).toBe(tokenFile);
    expect(fs.readFileSync(tokenFile, "utf8").trim()).toBe(newToken[1]);
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    await vi.waitFor(async () => expect((await fetch(adminUrl, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401), { timeout: 10_000, interval: 100 });
    expect((await fetch(adminUrl, { headers: { authorization: `Bearer ${newToken[1]}` } })).status).toBe(200);
    const rotatedToken = newToken[1]!;

    const exit = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
    server.kill("SIGTERM");
    expect(await exit).toBe(0);

    // Migrating again is a no-op, and the token stays the one last made.
    const again = await runCli(["migrate"], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(again).toMatchObject({ code: 0, stdout: "database is up to date\n" });
    expect(fs.readFileSync(tokenFile, "utf8").trim()).toBe(rotatedToken);
  });
});
