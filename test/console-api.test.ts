import { createHash } from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import tls from "node:tls";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CompiledQuery } from "kysely";
import { loadConfig } from "../src/config.js";
import { dailyUsageIn } from "../src/services/billing.js";
import { basic, call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { testClock } from "./support/caller-ids.js";
import { admin } from "./support/calls.js";

// The console's own API (/console/api) and how /v2 takes the console's session: the behaviour a
// browser relies on, driven over HTTP as the browser would.

const dayMs = 86_400_000;

interface SignedIn {
  token: string;
  cookie: string;
  csrfToken: string;
  setCookie: string;
  json: any;
}

async function signIn(app: TestApp, email: string, password: string): Promise<SignedIn> {
  const response = await call(app, "POST", "/console/api/session", { body: { email, password } });
  expect(response.status, response.text).toBe(200);
  const setCookie = response.headers.get("set-cookie")!;
  const token = /^switchboard_session=([^;]+);/.exec(setCookie)![1]!;
  return { token, cookie: `switchboard_session=${token}`, csrfToken: response.json.csrfToken, setCookie, json: response.json };
}

describeEachDialect("console sessions", (dialect) => {
  let app: TestApp;
  let account: TestAccount;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp(dialect, { now: clock.now, authenticator: { now: clock.now } });
    account = await createTestAccount(app);
  });
  afterAll(() => app.close());

  it("signs in with the account's login: an HttpOnly, SameSite=Strict cookie, and only the token's digest stored", async () => {
    const session = await signIn(app, account.email.toUpperCase(), account.password);
    expect(session.setCookie).toBe(`switchboard_session=${session.token}; Max-Age=43200; Path=/; HttpOnly; SameSite=Strict`);
    expect(session.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.json).toEqual({
      account: { id: account.id, email: account.email, name: "Test Account", firstName: "Test", lastName: "User" },
      csrfToken: session.csrfToken,
      expiresAt: clock.now() + 12 * 60 * 60_000,
      sandbox: true,
    });
    const rows = await app.database.db.selectFrom("console_session").selectAll().where("account_id", "=", account.id).execute();
    expect(rows.map((row) => row.token_digest)).toContain(createHash("sha256").update(session.token).digest("hex"));
    expect(JSON.stringify(rows)).not.toContain(session.token);
    expect(JSON.stringify(rows)).not.toContain(session.csrfToken);

    const current = await call(app, "GET", "/console/api/session", { headers: { cookie: session.cookie } });
    expect(current.json).toEqual(session.json);
  });

  it("refuses a wrong password with a challenge that opens no browser dialog, and counts it against /v2's throttle", async () => {
    const other = await createTestAccount(app);
    for (let attempt = 1; attempt <= 10; attempt++) {
      const refused = await call(app, "POST", "/console/api/session", { body: { email: other.email, password: `wrong ${attempt}` } });
      expect([refused.status, refused.json.message]).toEqual([401, "wrong email or password"]);
      expect(refused.headers.get("www-authenticate")).toBe('Session realm="switchboard console"');
      expect(refused.headers.get("set-cookie")).toBeNull();
    }
    // The same lockout as Basic on /v2: for the console and for the API alike.
    const locked = await call(app, "POST", "/console/api/session", { body: { email: other.email, password: other.password } });
    expect(locked.status).toBe(429);
    expect(locked.json.message).toMatch(/^too many failed logins for this username; try again in \d+ s$/);
    expect((await call(app, "GET", "/v2/me/account", { auth: other.login })).status).toBe(429);
    clock.advance(5 * 60_000 + 1);
    await signIn(app, other.email, other.password);
  });

  it("does not let API credentials sign in", async () => {
    const credential = await app.services.credentials.create(account.id, "not a login");
    const refused = await call(app, "POST", "/console/api/session", { body: { email: credential.username, password: credential.password } });
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({ httpStatusCode: 403, internalCode: 0, message: "API credentials cannot sign in to the console: use the account's email and password" });
    expect(refused.headers.get("set-cookie")).toBeNull();
  });

  it("checks the sign-in body like any other", async () => {
    const missing = await call(app, "POST", "/console/api/session", { body: { email: account.email } });
    expect([missing.status, missing.json.message]).toEqual([400, "body field password: is required"]);
  });

  it("is the account's login on /v2: reads with the cookie alone, changes only with the CSRF token", async () => {
    const session = await signIn(app, account.email, account.password);
    const me = await call(app, "GET", "/v2/me/account", { headers: { cookie: session.cookie } });
    expect([me.status, me.json.email]).toEqual([200, account.email]);
    // Account-login-only operations accept it, as they accept the account's Basic login.
    expect((await call(app, "GET", "/v2/me/api/credentials", { headers: { cookie: session.cookie } })).status).toBe(200);

    const forged = await call(app, "POST", "/v2/me/api/credentials", { body: { name: "forged" }, headers: { cookie: session.cookie } });
    expect(forged.status).toBe(403);
    expect(forged.json.message).toBe("missing or wrong X-CSRF-Token header: a change made with a console session must carry the session's CSRF token");
    const wrong = await call(app, "POST", "/v2/me/api/credentials", {
      body: { name: "forged" },
      headers: { cookie: session.cookie, "x-csrf-token": session.csrfToken.replace(/^./, (c) => (c === "A" ? "B" : "A")) },
    });
    expect(wrong.status).toBe(403);
    const names = async () => (await call(app, "GET", "/v2/me/api/credentials", { auth: account.login })).json.items.map((c: { name: string }) => c.name);
    expect(await names()).not.toContain("forged");

    const created = await call(app, "POST", "/v2/me/api/credentials", {
      body: { name: "from the console" },
      headers: { cookie: session.cookie, "x-csrf-token": session.csrfToken },
    });
    expect([created.status, created.json.name, created.json.password]).toEqual([200, "from the console", expect.stringMatching(/^[0-9a-f]{32}$/)]);
  });

  it("lets an Authorization header win over the cookie", async () => {
    const session = await signIn(app, account.email, account.password);
    const response = await call(app, "GET", "/v2/me/account", { auth: basic(account.email, "not the password"), headers: { cookie: session.cookie } });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Basic realm="switchboard"');
  });

  it("answers a console request without a live session with 401 and no Basic challenge", async () => {
    for (const headers of [{ cookie: "switchboard_session=made-up" }, { "x-csrf-token": "anything" }] as Array<Record<string, string>>) {
      const refused = await call(app, "GET", "/v2/me/account", { headers });
      expect([refused.status, refused.json.message]).toEqual([401, "no console session, or it has ended: sign in again"]);
      expect(refused.headers.get("www-authenticate")).toBe('Session realm="switchboard console"');
    }
    // Without either, /v2 is the API as before.
    const plain = await call(app, "GET", "/v2/me/account");
    expect(plain.headers.get("www-authenticate")).toBe('Basic realm="switchboard"');
    // A public media download needs nothing, and a cookie does not change that.
    expect((await call(app, "GET", "/v2/media/public/nosuchkey.wav", { headers: { cookie: "switchboard_session=made-up" } })).status).toBe(404);
  });

  it("ends the session on the server at sign-out, only with its CSRF token", async () => {
    const session = await signIn(app, account.email, account.password);
    const forged = await call(app, "DELETE", "/console/api/session", { headers: { cookie: session.cookie } });
    expect(forged.status).toBe(403);
    expect((await call(app, "GET", "/v2/me/account", { headers: { cookie: session.cookie } })).status).toBe(200);

    const out = await call(app, "DELETE", "/console/api/session", { headers: { cookie: session.cookie, "x-csrf-token": session.csrfToken } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toBe("switchboard_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict");
    expect((await call(app, "GET", "/v2/me/account", { headers: { cookie: session.cookie } })).status).toBe(401);
    expect((await call(app, "GET", "/console/api/session", { headers: { cookie: session.cookie } })).status).toBe(401);
    // Signing out again, or without a session, just clears the cookie.
    expect((await call(app, "DELETE", "/console/api/session", { headers: { cookie: session.cookie } })).status).toBe(204);
  });

  it("expires a session on the server 12 hours after sign-in, however busy", async () => {
    const session = await signIn(app, account.email, account.password);
    clock.advance(12 * 60 * 60_000 - 1);
    expect((await call(app, "GET", "/v2/me/account", { headers: { cookie: session.cookie } })).status).toBe(200);
    clock.advance(1);
    expect((await call(app, "GET", "/v2/me/account", { headers: { cookie: session.cookie } })).status).toBe(401);
    // The next sign-in sweeps it from the table.
    await signIn(app, account.email, account.password);
    const digest = createHash("sha256").update(session.token).digest("hex");
    expect(await app.database.db.selectFrom("console_session").select("id").where("token_digest", "=", digest).execute()).toEqual([]);
  });

  it("signs out every console of an account whose password changes", async () => {
    const other = await createTestAccount(app);
    const first = await signIn(app, other.email, other.password);
    const second = await signIn(app, other.email, other.password);
    const mine = await signIn(app, account.email, account.password);
    expect((await admin(app, "PUT", `/accounts/${other.id}/password`, { password: "a brand new password" })).status).toBe(204);
    for (const session of [first, second]) expect((await call(app, "GET", "/v2/me/account", { headers: { cookie: session.cookie } })).status).toBe(401);
    expect((await call(app, "GET", "/v2/me/account", { headers: { cookie: mine.cookie } })).status).toBe(200);
  });
});

describeEachDialect("console reads", (dialect) => {
  let app: TestApp;
  let account: TestAccount;
  let other: TestAccount;
  // Noon UTC, so that "an hour ago" is today and "a day ago" is yesterday; 40 days after the
  // accounts are created, so that all of the chart's 30 days are of their lifetime.
  const today = Date.now() - (Date.now() % dayMs) + 40 * dayMs;
  const clock = testClock(today + dayMs / 2);

  beforeAll(async () => {
    app = await startTestApp(dialect, { now: clock.now });
    account = await createTestAccount(app);
    other = await createTestAccount(app);
  });
  afterAll(() => app.close());

  it("sums the ledger per UTC day over the last 30 days, today last, for the caller's account only", async () => {
    const now = clock.now();
    const ingest = async (accountId: number, startTime: number, durationSeconds: number) => {
      const { status } = await admin(app, "POST", `/accounts/${accountId}/calls`, { fromNumber: "12135551189", toNumber: "13105550100", startTime, durationSeconds });
      expect(status).toBe(201);
    };
    await admin(app, "PUT", `/accounts/${account.id}/plan`, { name: "Half", monthlyCredits: 0, creditsPerCallMinute: 0.5, creditsPerText: 0.25 });
    await ingest(account.id, now - 60 * 60_000, 61); // today: 2 minutes
    await ingest(account.id, now - dayMs, 30); // yesterday: 1 minute
    expect((await admin(app, "POST", `/accounts/${account.id}/texts`, { count: 3, time: now - dayMs })).status).toBe(201);
    await ingest(account.id, now - 29 * dayMs - 12 * 60 * 60_000, 60); // the first millisecond of the oldest day
    await ingest(account.id, now - 30 * dayMs, 600); // one day too old
    await ingest(other.id, now, 6000); // another account's

    const { status, json } = await call(app, "GET", "/console/api/billing/daily-credit-usage", { auth: account.api });
    expect(status).toBe(200);
    expect(json.items).toHaveLength(30);
    expect(json.items[0]).toEqual({ intervalBegin: today - 29 * dayMs, intervalEnd: today - 28 * dayMs, callsDurationMinutes: 1, textsSent: 0, creditsUsed: 0.5 });
    expect(json.items[28]).toEqual({ intervalBegin: today - dayMs, intervalEnd: today, callsDurationMinutes: 1, textsSent: 3, creditsUsed: 1.25 });
    expect(json.items[29]).toEqual({ intervalBegin: today, intervalEnd: today + dayMs, callsDurationMinutes: 2, textsSent: 0, creditsUsed: 1 });
    expect(json.items.slice(1, 28).every((day: { creditsUsed: number; textsSent: number; callsDurationMinutes: number }) => day.creditsUsed + day.textsSent + day.callsDurationMinutes === 0)).toBe(true);
    // Each day is exactly what getCreditUsage says for that interval.
    const yesterday = await call(app, "GET", `/v2/me/billing/credit-usage?intervalBegin=${today - dayMs}&intervalEnd=${today}`, { auth: account.api });
    expect(yesterday.json).toEqual(json.items[28]);

    const others = await call(app, "GET", "/console/api/billing/daily-credit-usage", { auth: other.api });
    expect(others.json.items.map((day: { callsDurationMinutes: number }) => day.callsDurationMinutes).reduce((a: number, b: number) => a + b)).toBe(100);
  });

  it.runIf(dialect === "sqlite")("reads only the account's day totals for the chart", async () => {
    const query = dailyUsageIn(app.database.db, account.id, 0, dayMs).compile();
    const { rows } = await app.database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]));
    expect(rows.map((row) => row.detail)).toEqual(["SEARCH usage_day USING PRIMARY KEY (account_id=? AND day>? AND day<?)"]);
  });

  it("reads the account's plan", async () => {
    const { json } = await call(app, "GET", "/console/api/billing/plan", { auth: account.api });
    expect(json).toEqual({ name: "Half", monthlyCredits: 0, creditsPerCallMinute: 0.5, creditsPerText: 0.25 });
    const defaults = await call(app, "GET", "/console/api/billing/plan", { auth: other.api });
    expect(defaults.json).toEqual({ name: "Pay As You Go", monthlyCredits: 0, creditsPerCallMinute: 1, creditsPerText: 1 });
    expect((await call(app, "GET", "/console/api/billing/plan")).status).toBe(401);
  });

  it("shows the sandbox's pending verification code to that account, for that number only", async () => {
    expect((await call(app, "POST", "/v2/me/callerids/12135551189", { auth: account.api })).status).toBe(200);
    const { json: outbox } = await admin(app, "GET", `/outbox?accountId=${account.id}`);
    const code = outbox.items[0].code;

    const shown = await call(app, "GET", "/console/api/callerids/+12135551189/sandbox-code", { auth: account.api });
    expect([shown.status, shown.json]).toEqual([200, { phoneNumber: "12135551189", verificationCode: code, expiresAt: clock.now() + 600_000 }]);
    const otherNumber = await call(app, "GET", "/console/api/callerids/13105550100/sandbox-code", { auth: account.api });
    expect([otherNumber.status, otherNumber.json.message]).toEqual([404, "no verification code is pending for 13105550100: send one with POST /v2/me/callerids/13105550100"]);
    const otherAccount = await call(app, "GET", "/console/api/callerids/12135551189/sandbox-code", { auth: other.api });
    expect(otherAccount.status).toBe(404);
    const invalid = await call(app, "GET", "/console/api/callerids/12/sandbox-code", { auth: account.api });
    expect(invalid.status).toBe(400);

    // Once used, the code is gone from the outbox, and from here.
    await call(app, "POST", "/v2/me/callerids/12135551189/verification-code", { auth: account.api, body: { verificationCode: code } });
    expect((await call(app, "GET", "/console/api/callerids/12135551189/sandbox-code", { auth: account.api })).status).toBe(404);
  });

  it("answers unknown console API paths with a 404 ErrorMessage, whatever the method", async () => {
    for (const method of ["GET", "POST", "DELETE"]) {
      const response = await call(app, method, "/console/api/no-such-thing", { auth: account.api });
      expect([response.status, response.json]).toEqual([404, { httpStatusCode: 404, internalCode: 0, message: `no such resource: ${method} /console/api/no-such-thing` }]);
    }
  });
});

describe("console sessions over HTTPS and with a telephony webhook", () => {
  let app: TestApp;
  let fastify: FastifyInstance;
  let secure: tls.Server;
  const certificate = fs.readFileSync(new URL("./fixtures/tls/localhost.crt", import.meta.url));

  beforeAll(async () => {
    const config = loadConfig({ callsWebhookUrl: "http://127.0.0.1:9/calls", callsWebhookSecret: "a webhook secret of some length", logLevel: "silent", port: "0" }, {});
    app = await startTestApp("sqlite", { config: { ...config, dataDir: "unused" } }, (built) => (fastify = built));
    // TLS in front of the same server: Fastify sees an encrypted socket, as behind no proxy.
    secure = tls.createServer({ key: fs.readFileSync(new URL("./fixtures/tls/localhost.key", import.meta.url)), cert: certificate }, (socket) =>
      fastify.server.emit("connection", socket),
    );
    await new Promise<void>((resolve) => secure.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    secure.close();
    await app.close();
  });

  it("marks the cookie Secure when the request came over HTTPS", async () => {
    const account = await createTestAccount(app);
    const { status, setCookie } = await new Promise<{ status: number; setCookie: string[] }>((resolve, reject) => {
      const request = https.request(
        { host: "127.0.0.1", port: (secure.address() as AddressInfo).port, path: "/console/api/session", method: "POST", ca: certificate, headers: { "content-type": "application/json" } },
        (response) => {
          response.resume();
          resolve({ status: response.statusCode!, setCookie: response.headers["set-cookie"] ?? [] });
        },
      );
      request.on("error", reject);
      request.end(JSON.stringify({ email: account.email, password: account.password }));
    });
    expect(status).toBe(200);
    expect(setCookie[0]).toMatch(/^switchboard_session=[^;]+; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  });

  it("never shows a verification code where a webhook places the calls", async () => {
    const account = await createTestAccount(app);
    const signedIn = await call(app, "POST", "/console/api/session", { body: { email: account.email, password: account.password } });
    expect(signedIn.json.sandbox).toBe(false);
    expect((await call(app, "POST", "/v2/me/callerids/12135551189", { auth: account.api })).status).toBe(200);
    const hidden = await call(app, "GET", "/console/api/callerids/12135551189/sandbox-code", { auth: account.api });
    expect([hidden.status, hidden.json.message]).toEqual([404, "no such resource: GET /console/api/callerids/12135551189/sandbox-code"]);
  });
});

describe("the web pages", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp("sqlite");
  });
  afterAll(() => app.close());

  it("serves the HTML pages revalidated every time, and the console's pages all from one", async () => {
    const consolePage = await fetch(`${app.baseUrl}/console`);
    expect([consolePage.status, consolePage.headers.get("content-type"), consolePage.headers.get("cache-control")]).toEqual([200, "text/html; charset=utf-8", "no-cache"]);
    const html = await consolePage.text();
    for (const path of ["/console/media", "/console/caller-ids", "/console/no-such-page"]) {
      expect(await (await fetch(`${app.baseUrl}${path}`)).text()).toBe(html);
    }
    const etag = consolePage.headers.get("etag")!;
    expect((await fetch(`${app.baseUrl}/console`, { headers: { "if-none-match": etag } })).status).toBe(304);

    const landing = await fetch(`${app.baseUrl}/`);
    expect([landing.status, landing.headers.get("cache-control")]).toEqual([200, "no-cache"]);
    expect(await landing.text()).toContain("<h1>A CallFire API v2 server you run yourself</h1>");
  });

  it("serves built assets under hashed names, cached for a year, and nothing else there", async () => {
    const html = await (await fetch(`${app.baseUrl}/console`)).text();
    const script = /<script type="module" crossorigin src="(\/assets\/console-[A-Za-z0-9_-]{8}\.js)">/.exec(html)![1]!;
    const asset = await fetch(`${app.baseUrl}${script}`);
    expect([asset.status, asset.headers.get("cache-control"), asset.headers.get("content-type")]).toEqual([
      200,
      "public, max-age=31536000, immutable",
      "application/javascript; charset=utf-8",
    ]);
    const missing = await call(app, "GET", "/assets/console-00000000.js");
    expect([missing.status, missing.json.message]).toEqual([404, "no such resource: GET /assets/console-00000000.js"]);
    // API answers are not touched.
    expect((await call(app, "GET", "/v2/me/account")).headers.get("cache-control")).toBeNull();
  });

  it("serves the README as a page, with GitHub's heading ids and its screenshots", async () => {
    const readme = await (await fetch(`${app.baseUrl}/readme`)).text();
    expect(readme).toContain('<h2 id="web-console">Web console</h2>');
    // Where the home page's "Using CallFire's SDKs" link lands.
    expect(readme).toContain('<h2 id="using-callfires-sdks">Using CallFire&#39;s SDKs</h2>');
    const screenshot = /<img src="(\/assets\/overview-1280-[A-Za-z0-9_-]{8}\.png)"/.exec(readme)![1]!;
    const image = await fetch(`${app.baseUrl}${screenshot}`);
    expect([image.status, image.headers.get("content-type")]).toEqual([200, "image/png"]);
  });
});
