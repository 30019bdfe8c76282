import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { AudioConverter } from "../src/audio/audio-converter.js";
import { loadConfig } from "../src/config.js";
import { buildApp } from "../src/server.js";
import { call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { testClock } from "./support/caller-ids.js";
import { admin } from "./support/calls.js";
import { storedBlobs, blobKeysOf, populate, rowsOf, type Populated } from "./support/operator.js";

// The operator's disable, enable and delete of accounts, over /admin/v1.

const unauthorized = { httpStatusCode: 401, internalCode: expect.any(Number), message: expect.any(String) };

describeEachDialect("operator API: disabling and enabling accounts", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  let bob: TestAccount;
  let aliceStuff: Populated;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp(dialect, { authenticator: { now: clock.now } });
    alice = await createTestAccount(app);
    bob = await createTestAccount(app);
    aliceStuff = await populate(app, alice);
  });
  afterAll(() => app.close());

  /** The status of the account's login, its API credential and its console session. */
  const access = async (account: TestAccount, cookie?: string) => [
    (await call(app, "GET", "/v2/me/account", { auth: account.login })).status,
    (await call(app, "GET", "/v2/me/account", { auth: account.api })).status,
    ...(cookie ? [(await call(app, "GET", "/console/api/session", { headers: { cookie } })).status] : []),
  ];

  it("refuses at once every login, credential and console session of a disabled account, and only of it", async () => {
    // Cached verifications, as a busy client has them.
    expect(await access(alice, aliceStuff.consoleCookie)).toEqual([200, 200, 200]);
    expect(await access(bob)).toEqual([200, 200]);

    const disabled = await admin(app, "POST", `/accounts/${alice.id}/disable`);
    expect(disabled.status).toBe(200);
    expect(disabled.json).toMatchObject({ id: alice.id, email: alice.email, disabledAt: expect.any(Number) });

    for (const auth of [alice.login, alice.api]) {
      const refused = await call(app, "GET", "/v2/me/account", { auth });
      expect(refused.status).toBe(401);
      expect(refused.json).toEqual(unauthorized);
    }
    const console = await call(app, "GET", "/console/api/session", { headers: { cookie: aliceStuff.consoleCookie } });
    expect(console.status).toBe(401);
    expect(console.json).toEqual(unauthorized);
    // Signing in again is refused too, and the sessions it had are gone.
    expect((await call(app, "POST", "/console/api/session", { body: { email: alice.email, password: alice.password } })).status).toBe(401);
    expect(await app.database.db.selectFrom("console_session").select("id").where("account_id", "=", alice.id).execute()).toEqual([]);
    // A credential never used before (nothing cached) is refused as well.
    const fresh = await app.services.credentials.create(alice.id, "fresh");
    expect((await call(app, "GET", "/v2/me/account", { auth: `Basic ${Buffer.from(`${fresh.username}:${fresh.password}`).toString("base64")}` })).status).toBe(401);

    expect(await access(bob)).toEqual([200, 200]);
    expect((await admin(app, "GET", `/accounts/${alice.id}`)).json.disabledAt).toBe(disabled.json.disabledAt);

    // Disabling again changes nothing.
    expect((await admin(app, "POST", `/accounts/${alice.id}/disable`)).json.disabledAt).toBe(disabled.json.disabledAt);

    const enabled = await admin(app, "POST", `/accounts/${alice.id}/enable`);
    expect(enabled.status).toBe(200);
    expect(enabled.json).not.toHaveProperty("disabledAt");
    expect(await access(alice)).toEqual([200, 200]);
  });

  it("lets no background re-verification that began before the disable bring the account back", async () => {
    expect(await access(alice)).toEqual([200, 200]);
    // Into the refresh window: the next request is answered from the cache and re-verifies behind it.
    clock.advance(9_000);
    expect(await access(alice)).toEqual([200, 200]);
    await admin(app, "POST", `/accounts/${alice.id}/disable`);
    expect(await access(alice)).toEqual([401, 401]);
    clock.advance(500);
    expect(await access(alice)).toEqual([401, 401]);
    await admin(app, "POST", `/accounts/${alice.id}/enable`);
  });

  it("refuses a disabled account on another node as soon as it is told (PostgreSQL), and at most after its cache TTL", async () => {
    const converter = new AudioConverter();
    const other = await buildApp({
      config: loadConfig({ dataDir: app.dataDir, logLevel: "silent" }, {}),
      database: app.database,
      blobs: app.blobs,
      converter,
      adminToken: "x".repeat(32),
      authenticator: { now: clock.now, cacheTtlMs: 10_000 },
    });
    try {
      const ask = async (auth: string) => (await other.app.inject({ method: "GET", url: "/v2/me/account", headers: { authorization: auth } })).statusCode;
      expect([await ask(alice.login), await ask(alice.api)]).toEqual([200, 200]);
      await admin(app, "POST", `/accounts/${alice.id}/disable`);
      if (dialect === "postgres") {
        const disabledAt = Date.now();
        await vi.waitFor(async () => expect([await ask(alice.login), await ask(alice.api)]).toEqual([401, 401]), { timeout: 5_000, interval: 10 });
        console.log(`operator: a disabled account was refused on the other node ${Date.now() - disabledAt} ms after the disable was answered`);
      } else {
        // Cached on the other node until its TTL passes.
        expect(await ask(alice.api)).toBe(200);
        clock.advance(10_001);
        expect([await ask(alice.login), await ask(alice.api)]).toEqual([401, 401]);
      }
      expect(await ask(bob.api)).toBe(200);
    } finally {
      await admin(app, "POST", `/accounts/${alice.id}/enable`);
      await other.app.close();
      await converter.close();
    }
  });

  it("answers an unknown account 404 and a malformed id 400, changing nothing", async () => {
    const before = await rowsOf(app.database.db, alice.id);
    for (const action of ["disable", "enable"]) {
      const missing = await admin(app, "POST", `/accounts/999999/${action}`);
      expect(missing.status).toBe(404);
      expect(missing.json).toEqual({ httpStatusCode: 404, internalCode: expect.any(Number), message: "account 999999 not found" });
      for (const id of ["0", "abc", "1.5"]) {
        const bad = await admin(app, "POST", `/accounts/${id}/${action}`);
        expect(bad.status).toBe(400);
        expect(bad.json).toMatchObject({ httpStatusCode: 400 });
      }
    }
    expect(await rowsOf(app.database.db, alice.id)).toEqual(before);
  });
});

describeEachDialect("operator API: deleting accounts", (dialect) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp(dialect);
  });
  afterAll(() => app.close());

  it("deletes everything of the account, its blobs too, keeps its ledger, and touches no other account", async () => {
    const alice = await createTestAccount(app);
    const bob = await createTestAccount(app);
    const aliceStuff = await populate(app, alice);
    const bobStuff = await populate(app, bob);
    expect(aliceStuff.blobKeys).toHaveLength(3); // the media, its WAV rendition, the recording
    expect(await storedBlobs(app, aliceStuff.blobKeys)).toEqual(aliceStuff.blobKeys);
    const bobBefore = await rowsOf(app.database.db, bob.id);
    const ledger = await app.database.db.selectFrom("usage_charge").selectAll().where("account_id", "=", alice.id).orderBy("id").execute();
    expect(ledger).toHaveLength(3); // the call, the text, the usage-only texts
    const usernames = [alice.email, alice.apiUsername];
    expect(await app.database.db.selectFrom("login_throttle").select("username").where("username", "in", usernames).execute()).not.toEqual([]);

    const deleted = await admin(app, "DELETE", `/accounts/${alice.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");

    const rows = await rowsOf(app.database.db, alice.id);
    const { usage_charge: usage, credit_adjustment: adjustments, ...rest } = rows;
    expect(Object.entries(rest).filter(([, list]) => list.length > 0)).toEqual([]);
    expect(await app.database.db.selectFrom("login_throttle").select("username").where("username", "in", usernames).execute()).toEqual([]);
    // The ledger is kept, for the operator's books: the same charges, pointing at nothing.
    expect(usage).toHaveLength(3);
    expect(adjustments).toHaveLength(1);
    const kept = await app.database.db.selectFrom("usage_charge").selectAll().where("account_id", "=", alice.id).orderBy("id").execute();
    expect(kept).toEqual(ledger.map((charge) => ({ ...charge, call_id: null, text_id: null })));

    expect(await storedBlobs(app, aliceStuff.blobKeys)).toEqual([]);
    expect((await fetch(`${app.baseUrl}${aliceStuff.publicUrl}`)).status).toBe(404);
    for (const auth of [alice.login, alice.api]) expect((await call(app, "GET", "/v2/me/account", { auth })).status).toBe(401);
    expect((await call(app, "GET", "/console/api/session", { headers: { cookie: aliceStuff.consoleCookie } })).status).toBe(401);
    expect((await admin(app, "GET", `/accounts/${alice.id}`)).status).toBe(404);
    expect((await admin(app, "GET", `/calls/${aliceStuff.callId}`)).status).toBe(404);

    // Bob: every row and blob as it was, and he still works.
    expect(await rowsOf(app.database.db, bob.id)).toEqual(bobBefore);
    expect(await storedBlobs(app, bobStuff.blobKeys)).toEqual(bobStuff.blobKeys);
    expect((await fetch(`${app.baseUrl}${bobStuff.publicUrl}`)).status).toBe(200);
    expect((await call(app, "GET", "/v2/me/account", { auth: bob.api })).status).toBe(200);

    // Deleted once: a second delete is a 404, and a new account gets a new id.
    const again = await admin(app, "DELETE", `/accounts/${alice.id}`);
    expect(again.status).toBe(404);
    expect(again.json).toEqual({ httpStatusCode: 404, internalCode: expect.any(Number), message: `account ${alice.id} not found` });
    expect((await createTestAccount(app)).id).toBeGreaterThan(bob.id);
    expect(await blobKeysOf(app.database.db, alice.id)).toEqual([]);
  });

  it("answers a malformed id 400, changing nothing", async () => {
    const carol = await createTestAccount(app);
    const before = await rowsOf(app.database.db, carol.id);
    for (const id of ["0", "abc", "-1", "9007199254740993"]) {
      const bad = await admin(app, "DELETE", `/accounts/${id}`);
      expect(bad.status).toBe(400);
      expect(bad.json).toMatchObject({ httpStatusCode: 400, message: expect.any(String) });
    }
    expect(await rowsOf(app.database.db, carol.id)).toEqual(before);
  });
});
