import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AudioConverter } from "../src/audio/audio-converter.js";
import { loadConfig } from "../src/config.js";
import { buildApp } from "../src/server.js";
import { basic, call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";

describeEachDialect("authentication", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  let clock = Date.now();
  const logs: string[] = [];

  beforeAll(async () => {
    const logStream = new PassThrough();
    logStream.on("data", (line: Buffer) => logs.push(line.toString()));
    app = await startTestApp(dialect, { authenticator: { now: () => clock }, logStream }, (fastify) => {
      fastify.get("/v2/test/explode", async () => {
        throw new Error('relation "secret_table" does not exist: select * from secret_table');
      });
    });
    alice = await createTestAccount(app);
  });
  afterAll(() => app.close());

  const unauthorized = (message: string) => ({ httpStatusCode: 401, internalCode: 0, message });

  it.each([
    ["no Authorization header", undefined, "credentials required: use HTTP Basic authentication"],
    ["a Bearer token", "Bearer abc.def", "malformed Authorization header: expected Basic <base64(username:password)>"],
    ["Basic with something that is not base64", "Basic !!!", "malformed Authorization header: expected Basic <base64(username:password)>"],
    ["a username with no colon", `Basic ${Buffer.from("justauser").toString("base64")}`, "malformed Basic credentials: expected username:password"],
    ["an empty username", `Basic ${Buffer.from(":password").toString("base64")}`, "malformed Basic credentials: expected username:password"],
    ["a 10 KB header", `Basic ${Buffer.from(`${"u".repeat(5000)}:${"p".repeat(2500)}`).toString("base64")}`, "invalid or missing credentials"],
    ["an unknown API username", basic("0123456789ab", "0123456789abcdef0123456789abcdef"), "invalid or missing credentials"],
  ])("refuses %s with 401 and WWW-Authenticate", async (_label, auth, message) => {
    const { status, json, headers } = await call(app, "GET", "/v2/me/account", { auth });
    expect(status).toBe(401);
    expect(headers.get("www-authenticate")).toBe('Basic realm="switchboard"');
    expect(json).toEqual(unauthorized(message));
  });

  it("refuses the right username with a wrong password, for both kinds of principal", async () => {
    expect((await call(app, "GET", "/v2/me/account", { auth: basic(alice.email, "wrong password") })).status).toBe(401);
    expect((await call(app, "GET", "/v2/me/account", { auth: basic(alice.apiUsername, "0".repeat(32)) })).status).toBe(401);
  });

  it("checks credentials before looking at the request", async () => {
    const { status } = await call(app, "GET", "/v2/me/api/credentials/abc", { auth: basic(alice.email, "wrong password") });
    expect(status).toBe(401);
  });

  it("locks a username out with 429 after 10 failures in 5 minutes, even for the right password, until the window passes", async () => {
    const victim = await createTestAccount(app);
    for (let i = 0; i < 10; i++) {
      clock += 1000;
      expect((await call(app, "GET", "/v2/me/account", { auth: basic(victim.email, `guess ${i}`) })).status).toBe(401);
    }
    clock += 1000;
    const locked = await call(app, "GET", "/v2/me/account", { auth: victim.login });
    expect(locked.status).toBe(429);
    expect(locked.json).toEqual({ httpStatusCode: 429, internalCode: 0, message: "too many failed logins for this username; try again in 290 s" });
    expect(locked.headers.get("retry-after")).toBe("290");

    // Another username is not affected.
    expect((await call(app, "GET", "/v2/me/account", { auth: alice.login })).status).toBe(200);

    clock += 290_000;
    expect((await call(app, "GET", "/v2/me/account", { auth: victim.login })).status).toBe(200);
  });

  it("stops accepting an old account password as soon as it is changed on this node", async () => {
    const carol = await createTestAccount(app);
    expect((await call(app, "GET", "/v2/me/account", { auth: carol.login })).status).toBe(200);
    await app.services.accounts.setPassword(carol.id, "a brand new password");
    expect((await call(app, "GET", "/v2/me/account", { auth: carol.login })).status).toBe(401);
    expect((await call(app, "GET", "/v2/me/account", { auth: basic(carol.email, "a brand new password") })).status).toBe(200);
  });

  it("lets another node trust a cached verification until it is told (PostgreSQL), and at most until its TTL passes", async () => {
    const config = loadConfig({ dataDir: app.dataDir, logLevel: "silent" }, {});
    const other = await buildApp({
      config,
      database: app.database,
      blobs: app.blobs,
      converter: new AudioConverter(),
      adminToken: "x".repeat(32),
      authenticator: { now: () => clock, cacheTtlMs: 10_000 },
    });
    try {
      const created = await app.services.credentials.create(alice.id, "two-nodes");
      const auth = basic(created.username, created.password);
      const ask = async () => (await other.app.inject({ method: "GET", url: "/v2/me/account", headers: { authorization: auth } })).statusCode;
      expect(await ask()).toBe(200);
      await app.services.credentials.delete(alice.id, created.id);
      expect((await call(app, "GET", "/v2/me/account", { auth })).status).toBe(401);
      if (app.database.dialect === "postgres") {
        // The NOTIFY reaches the other node's listener: it forgets the credential before any TTL.
        await vi.waitFor(async () => expect(await ask()).toBe(401), { timeout: 5_000, interval: 10 });
      } else {
        expect(await ask()).toBe(200);
        clock += 10_001;
        expect(await ask()).toBe(401);
      }
    } finally {
      await other.app.close();
    }
  });

  it("answers an internal failure with 500, a request id and nothing internal, and never logs the Authorization header", async () => {
    const { status, json, headers } = await call(app, "GET", "/v2/test/explode", { auth: alice.login });
    expect(status).toBe(500);
    const requestId = /request id ([0-9a-f]{12}-[0-9a-z]+)\)$/.exec(json.message)?.[1];
    expect(requestId).toBeDefined();
    expect(headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(json).toEqual({
      httpStatusCode: 500,
      internalCode: 0,
      message: `internal server error (request id ${requestId})`,
      developerMessage: `request id: ${requestId}`,
    });
    const logged = logs.join("");
    expect(logged).toContain("secret_table");
    expect(logged).toContain(requestId);
    expect(logged).not.toContain(alice.login.slice("Basic ".length));
  });
});

describe("the verification cache", () => {
  it("verifies an account login's scrypt hash once, then trusts the cache until the TTL passes", async () => {
    let clock = Date.now();
    const app = await startTestApp("sqlite", { authenticator: { now: () => clock, cacheTtlMs: 10_000 } });
    try {
      const account = await createTestAccount(app);
      const verifyLogin = vi.spyOn(app.services.accounts, "verifyLogin");
      for (let i = 0; i < 5; i++) expect((await call(app, "GET", "/v2/me/account", { auth: account.login })).status).toBe(200);
      expect(verifyLogin).toHaveBeenCalledTimes(1);
      clock += 10_001;
      expect((await call(app, "GET", "/v2/me/account", { auth: account.login })).status).toBe(200);
      expect(verifyLogin).toHaveBeenCalledTimes(2);
      // Near the end of the TTL the entry is re-verified in the background, without making the caller wait.
      clock += 8_001;
      expect((await call(app, "GET", "/v2/me/account", { auth: account.login })).status).toBe(200);
      await vi.waitFor(() => expect(verifyLogin).toHaveBeenCalledTimes(3));
      clock += 9_000;
      expect((await call(app, "GET", "/v2/me/account", { auth: account.login })).status).toBe(200);
      expect(verifyLogin).toHaveBeenCalledTimes(3);
      // A wrong password is never answered from the cache.
      expect((await call(app, "GET", "/v2/me/account", { auth: basic(account.email, "not it") })).status).toBe(401);
      expect(verifyLogin).toHaveBeenCalledTimes(4);
    } finally {
      await app.close();
    }
  });

  it("runs one verification for a burst of concurrent requests with the same uncached login", async () => {
    const app = await startTestApp("sqlite");
    try {
      const account = await createTestAccount(app);
      const verifyLogin = vi.spyOn(app.services.accounts, "verifyLogin");
      const statuses = await Promise.all(Array.from({ length: 20 }, () => call(app, "GET", "/v2/me/account", { auth: account.login }).then((r) => r.status)));
      expect(statuses).toEqual(Array(20).fill(200));
      expect(verifyLogin).toHaveBeenCalledTimes(1);
    } finally {
      await app.close();
    }
  });
});
