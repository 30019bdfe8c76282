import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { postgresUrl, withEmptyPostgresDatabase } from "./support/app.js";
import { startServed, type ServedProcess } from "./support/served.js";

const nodes = 4;

describe("nodes started together on an empty database", { timeout: 120_000 }, () => {
  let dataDir: string;
  let started: ServedProcess[] = [];
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-fleet-"));
  });
  const stopAll = async () => {
    for (const node of started) node.child.kill("SIGTERM");
    for (const node of started) expect(await node.exited).toEqual({ code: 0, signal: null });
    started = [];
  };
  afterEach(async () => {
    await stopAll();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Starts the nodes at once, each with the settings `env` gives it. */
  async function startTogether(env: (i: number) => Record<string, string>): Promise<ServedProcess[]> {
    const results = await Promise.allSettled(Array.from({ length: nodes }, (_, i) => startServed(["--log-level", "warn"], env(i))));
    started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    for (const result of results) if (result.status === "rejected") throw result.reason;
    return started;
  }

  async function expectOneDemoAccount(fleet: ServedProcess[]): Promise<void> {
    const creators = fleet.filter((node) => node.demoApi !== undefined);
    expect(creators).toHaveLength(1);
    expect(fleet.filter((node) => node.output().includes("A demo account was created"))).toHaveLength(1);
    // The one printed login works on every node.
    for (const node of fleet) {
      const response = await fetch(`${node.baseUrl}/v2/me/account`, { headers: { authorization: creators[0]!.demoApi! } });
      expect(response.status).toBe(200);
    }
  }

  it(`all ${nodes} come up on one SQLite data directory, agree on one admin token, and only one prints the demo login`, async () => {
    const fleet = await startTogether(() => ({ SWITCHBOARD_DATA_DIR: dataDir }));
    await expectOneDemoAccount(fleet);
    const token = fs.readFileSync(path.join(dataDir, "admin-token"), "utf8").trim();
    for (const node of fleet) {
      const response = await fetch(`${node.baseUrl}/admin/v1/accounts`, { headers: { authorization: `Bearer ${token}` } });
      expect((await response.json()).totalCount).toBe(1);
    }
  });

  it.skipIf(!postgresUrl)(`all ${nodes} come up on one empty PostgreSQL database, and only one prints the demo login`, async () => {
    await withEmptyPostgresDatabase(async (url) => {
      const fleet = await startTogether((i) => ({
        SWITCHBOARD_DATABASE_URL: url,
        SWITCHBOARD_DATA_DIR: path.join(dataDir, `node-${i}`),
        SWITCHBOARD_ADMIN_TOKEN: "a-shared-operator-token",
      }));
      await expectOneDemoAccount(fleet);
      await stopAll();
    });
  });
});
