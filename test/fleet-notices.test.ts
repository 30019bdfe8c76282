import pg from "pg";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openDatabase, type Database } from "../src/db/database.js";
import { PostgresFleetNotices, type FleetNotice } from "../src/db/fleet-notices.js";
import { openTestDatabase, postgresUrl } from "./support/app.js";

const quiet = { info() {}, warn() {} };

if (!postgresUrl) {
  describe.skip("fleet notices [skipped: SWITCHBOARD_TEST_DATABASE_URL is not set; SQLite has one node and nothing to notify]", () => {
    it("needs PostgreSQL", () => {});
  });
} else {
  describe("fleet notices over PostgreSQL LISTEN/NOTIFY", () => {
    let store: Awaited<ReturnType<typeof openTestDatabase>>;
    let other: Database;
    beforeEach(async () => {
      store = await openTestDatabase("postgres");
      other = store.database;
    });
    afterEach(async () => {
      await other.close();
      await store.drop();
    });

    /** A second node's listener on the same schema. */
    async function listener() {
      const notices = other.notices as PostgresFleetNotices;
      const received: FleetNotice[] = [];
      let missed = 0;
      notices.subscribe(
        (notice) => received.push(notice),
        () => missed++,
      );
      await notices.listen(quiet);
      return { notices, received, missed: () => missed };
    }

    it("delivers what one node publishes to every node listening on its database and schema, and to no other schema", async () => {
      const { notices, received } = await listener();
      // Another node: its own pool and connection, on the same database and schema.
      const publisher = openDatabase({ url: postgresUrl, dataDir: store.dataDir, schema: notices.channel.replace(/^switchboard_revocations_/, "") });
      const elsewhere = await openTestDatabase("postgres");
      const strangers: FleetNotice[] = [];
      elsewhere.database.notices.subscribe((notice) => strangers.push(notice), () => {});
      await elsewhere.database.notices.listen(quiet);
      try {
        await publisher.notices.publish({ kind: "credentialRevoked", id: 7 });
        await vi.waitFor(() => expect(received).toEqual([{ kind: "credentialRevoked", id: 7 }]));
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(strangers).toEqual([]);
      } finally {
        await publisher.close();
        await elsewhere.database.close();
        await elsewhere.drop();
      }
    });

    it("reconnects when its connection is cut, says notices may have been missed, and receives again", async () => {
      const { notices, received, missed } = await listener();
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      try {
        const cut = await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where query = $1", [`listen "${notices.channel}"`]);
        expect(cut.rowCount).toBe(1);
      } finally {
        await admin.end();
      }
      await vi.waitFor(() => expect(missed()).toBe(1), { timeout: 10_000, interval: 20 });
      await other.notices.publish({ kind: "adminTokenRotated" });
      await vi.waitFor(() => expect(received).toEqual([{ kind: "adminTokenRotated" }]));
    });

    it("never fails the revocation that publishes: a notice that cannot be sent is logged", async () => {
      const lone = await openTestDatabase("postgres");
      const warnings: string[] = [];
      await lone.database.notices.listen({ info() {}, warn: (_details, message) => warnings.push(message) });
      await lone.database.close();
      await expect(lone.database.notices.publish({ kind: "credentialRevoked", id: 1 })).resolves.toBeUndefined();
      expect(warnings).toContain("could not notify the other nodes; they forget within their cache TTL");
      await lone.drop();
    });
  });
}
