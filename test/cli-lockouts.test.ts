import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AudioConverter } from "../src/audio/audio-converter.js";
import { FsBlobStore } from "../src/blobs/index.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { createServices, type Services } from "../src/server.js";
import { runCli } from "./support/cli.js";

/** Ten wrong passwords for `username`, through the same authenticator a server uses. */
async function lockOut(services: Services, username: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const presented = `${username}:guess ${i}`;
    await expect(services.authenticator.authenticate(presented, () => ({ username, password: `guess ${i}` }))).rejects.toMatchObject({ statusCode: 401 });
  }
  await expect(services.authenticator.authenticate(`${username}:one more`, () => ({ username, password: "one more" }))).rejects.toMatchObject({ statusCode: 429 });
}

describe("login lockouts from the command line", () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-lockout-cli-"));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("lists the locked-out logins and lifts one given in any case, account email or API-credential username", async () => {
    const database = openDatabase({ dataDir });
    await database.migrate();
    const converter = new AudioConverter();
    const services = createServices({ config: loadConfig({ dataDir }, {}), database, blobs: new FsBlobStore(path.join(dataDir, "blobs")), converter });
    const account = await services.accounts.create({ email: "ops@example.com", password: "operator-pass" });
    const credential = await services.credentials.create(account.id, "pbx");
    const before = Date.now();
    await lockOut(services, "Ops@Example.com");
    await lockOut(services, credential.username);
    const after = Date.now();
    await converter.close();
    await database.close();

    const env = { SWITCHBOARD_DATA_DIR: dataDir };
    const listed = await runCli(["lockout", "list", "--json"], env);
    expect(listed.code).toBe(0);
    const page = JSON.parse(listed.stdout);
    expect(page).toMatchObject({ limit: 100, offset: 0, totalCount: 2 });
    expect(page.items.map((l: { username: string; failedAttempts: number }) => [l.username, l.failedAttempts])).toEqual([
      ["ops@example.com", 10],
      [credential.username, 10],
    ]);
    for (const { lockedUntil } of page.items) {
      expect(lockedUntil).toBeGreaterThanOrEqual(before + 300_000);
      expect(lockedUntil).toBeLessThanOrEqual(after + 300_000);
    }
    const human = await runCli(["lockout", "list"], env);
    expect(human.stdout).toBe(
      `2 lockout(s)\nops@example.com\t10 attempt(s)\tuntil ${new Date(page.items[0].lockedUntil).toISOString()}\n` +
        `${credential.username}\t10 attempt(s)\tuntil ${new Date(page.items[1].lockedUntil).toISOString()}\n`,
    );

    expect(await runCli(["lockout", "lift", "--username", "OPS@example.COM"], env)).toMatchObject({ code: 0, stdout: "lifted the lockout of ops@example.com\n" });
    expect(await runCli(["lockout", "lift", "--username", credential.username, "--json"], env)).toMatchObject({ code: 0 });
    expect(await runCli(["lockout", "list"], env)).toMatchObject({ code: 0, stdout: "0 lockout(s)\n" });
    expect(await runCli(["lockout", "lift", "--username", "ops@example.com"], env)).toMatchObject({
      code: 2,
      stderr: 'switchboard: "ops@example.com" is not locked out\n',
    });
  });
});
