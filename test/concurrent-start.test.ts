import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { postgresUrl } from "./support/app.js";
import { startServed, type ServedProcess } from "./support/served.js";

const nodes = 4;

describe("nodes started together on an empty database", { timeout: 120_000 }, () => {
  let dataDir: string;
  let started: ServedProcess[] = [];
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-fleet-"));
  });
  afterEach(async () => {
    for (const node of started) {
      node.child.kill("SIGTERM");
      await node.exited;
    }
    started = [];
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Starts the nodes at once; each gets its own data directory unless they share `shared`. */
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
    const name = `switchboard_fleet_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    try {
      const url = new URL(postgresUrl!);
      url.pathname = `/${name}`;
      const fleet = await startTogether((i) => ({
        SWITCHBOARD_DATABASE_URL: url.href,
        SWITCHBOARD_DATA_DIR: path.join(dataDir, `node-${i}`),
        SWITCHBOARD_ADMIN_TOKEN: "a-shared-operator-token",
      }));
      await expectOneDemoAccount(fleet);
      for (const node of started) {
        node.child.kill("SIGTERM");
        await node.exited;
      }
      started = [];
    } finally {
      await admin.query(`drop database ${name}`);
      await admin.end();
    }
  });
});
