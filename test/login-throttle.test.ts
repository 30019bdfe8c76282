import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { basic, call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { persistentTestDatabase, startAppOn } from "./support/caller-ids.js";
import type { Database } from "../src/db/database.js";

/** Fires `count` parallel requests, each with its own wrong password (identical ones would share one check). */
async function parallelGuesses(app: TestApp, username: string, count: number): Promise<number[]> {
  const statuses = await Promise.all(
    Array.from({ length: count }, (_, i) => call(app, "GET", "/v2/me/account", { auth: basic(username, `wrong guess ${i}`) }).then((r) => r.status)),
  );
  return statuses.sort();
}

const tally = (statuses: number[]) => Object.fromEntries([...new Set(statuses)].map((s) => [s, statuses.filter((x) => x === s).length]));

describeEachDialect("the login throttle", (dialect) => {
  let app: TestApp;
  let clock = Date.now();

  beforeAll(async () => {
    app = await startTestApp(dialect, { authenticator: { now: () => clock } });
  });
  afterAll(() => app.close());

  const admin = (method: string, path: string) => call(app, method, `/admin/v1${path}`, { auth: `Bearer ${app.adminToken}` });

  it("checks at most 10 of 100 parallel wrong passwords for one account login, and then refuses the right one", async () => {
    const victim = await createTestAccount(app);
    const verifyLogin = vi.spyOn(app.services.accounts, "verifyLogin");
    try {
      expect(tally(await parallelGuesses(app, victim.email, 100))).toEqual({ 401: 10, 429: 90 });
      expect(verifyLogin).toHaveBeenCalledTimes(10);
      expect((await call(app, "GET", "/v2/me/account", { auth: victim.login })).status).toBe(429);
      expect(verifyLogin).toHaveBeenCalledTimes(10);
    } finally {
      verifyLogin.mockRestore();
    }
  });

  it("checks at most 10 of 100 parallel wrong passwords for one API-credential username", async () => {
    const victim = await createTestAccount(app);
    const verify = vi.spyOn(app.services.credentials, "verify");
    try {
      expect(tally(await parallelGuesses(app, victim.apiUsername, 100))).toEqual({ 401: 10, 429: 90 });
      expect(verify).toHaveBeenCalledTimes(10);
      expect((await call(app, "GET", "/v2/me/account", { auth: victim.api })).status).toBe(429);
    } finally {
      verify.mockRestore();
    }
  });

  it("gives every spelling of an email one allowance, and refuses the right password in another case during the lockout", async () => {
    const victim = await createTestAccount(app);
    const [local, domain] = victim.email.split("@") as [string, string];
    const spellings = [victim.email.toUpperCase(), `${local[0]!.toUpperCase()}${local.slice(1)}@${domain}`, `${local}@${domain.toUpperCase()}`, ` ${victim.email} `];
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await call(app, "GET", "/v2/me/account", { auth: basic(spellings[i % 4]!, `guess ${i}`) })).status);
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
    for (const spelling of [...spellings, victim.email]) {
      expect((await call(app, "GET", "/v2/me/account", { auth: basic(spelling, victim.password) })).status).toBe(429);
    }
  });

  it("does not count successful logins against later ones", async () => {
    const holder = await createTestAccount(app);
    for (let i = 0; i < 9; i++) expect((await call(app, "GET", "/v2/me/account", { auth: basic(holder.email, `guess ${i}`) })).status).toBe(401);
    // Each an uncached verification: the cache is keyed by the header, and the TTL has passed.
    for (let i = 0; i < 15; i++) {
      clock += 10_001;
      expect((await call(app, "GET", "/v2/me/account", { auth: holder.login })).status).toBe(200);
      expect((await call(app, "GET", "/v2/me/account", { auth: holder.api })).status).toBe(200);
    }
    expect((await call(app, "GET", "/v2/me/account", { auth: basic(holder.email, "the tenth guess") })).status).toBe(401);
    expect((await call(app, "GET", "/v2/me/account", { auth: basic(holder.email, "the eleventh") })).status).toBe(429);
  });

  it("says when a lockout ends, lists it for the operator, and lets the operator lift it in any case", async () => {
    const victim = await createTestAccount(app);
    const start = (clock += 60_000);
    for (let i = 0; i < 10; i++) {
      expect((await call(app, "GET", "/v2/me/account", { auth: basic(victim.email, `guess ${i}`) })).status).toBe(401);
      expect((await call(app, "GET", "/v2/me/account", { auth: basic(victim.apiUsername, `guess ${i}`) })).status).toBe(401);
    }
    clock += 100_000;
    const locked = await call(app, "GET", "/v2/me/account", { auth: victim.login });
    expect(locked.status).toBe(429);
    expect(locked.headers.get("retry-after")).toBe("200");
    expect(locked.json).toEqual({ httpStatusCode: 429, internalCode: 0, message: "too many failed logins for this username; try again in 200 s" });

    const listed = await admin("GET", "/login-lockouts");
    expect(listed.status).toBe(200);
    expect(listed.json.items).toEqual(
      expect.arrayContaining([
        { username: victim.email, failedAttempts: 10, lockedUntil: start + 300_000 },
        { username: victim.apiUsername, failedAttempts: 10, lockedUntil: start + 300_000 },
      ]),
    );

    expect((await admin("DELETE", `/login-lockouts/${encodeURIComponent(victim.email.toUpperCase())}`)).status).toBe(204);
    expect((await call(app, "GET", "/v2/me/account", { auth: victim.login })).status).toBe(200);
    expect((await call(app, "GET", "/v2/me/account", { auth: victim.api })).status).toBe(429);
    expect((await admin("DELETE", `/login-lockouts/${victim.apiUsername}`)).status).toBe(204);
    expect((await call(app, "GET", "/v2/me/account", { auth: victim.api })).status).toBe(200);

    const again = await admin("DELETE", `/login-lockouts/${encodeURIComponent(victim.email)}`);
    expect(again.json).toEqual({ httpStatusCode: 404, internalCode: 0, message: `"${victim.email}" is not locked out` });
    expect((await admin("GET", "/login-lockouts")).json.items.map((l: { username: string }) => l.username)).not.toContain(victim.email);
  });

  it("counts a login that lower-casing lengthens past 320 characters like any other", async () => {
    const username = `${"\u0130".repeat(300)}@example.com`;
    expect((await call(app, "GET", "/v2/me/account", { auth: basic(username, "a guess") })).status).toBe(401);
  });

  it("ends a lockout when its window passes", async () => {
    const victim = await createTestAccount(app);
    for (let i = 0; i < 10; i++) await call(app, "GET", "/v2/me/account", { auth: basic(victim.email, `guess ${i}`) });
    expect((await call(app, "GET", "/v2/me/account", { auth: victim.login })).status).toBe(429);
    clock += 300_000;
    expect((await call(app, "GET", "/v2/me/account", { auth: victim.login })).status).toBe(200);
  });
});

describeEachDialect("the login throttle across server processes", (dialect) => {
  let shared: Awaited<ReturnType<typeof persistentTestDatabase>>;
  let databases: Database[];
  let apps: TestApp[];

  beforeAll(async () => {
    shared = await persistentTestDatabase(dialect);
    databases = [await shared.open(), await shared.open()];
    apps = [await startAppOn(databases[0]!), await startAppOn(databases[1]!)];
  });
  afterAll(async () => {
    for (const app of apps ?? []) await app.close();
    for (const database of databases ?? []) await database.close();
    await shared?.drop();
  });

  it.each(["account login", "API credential"] as const)("shares one allowance between two apps on one database (%s)", async (kind) => {
    const victim: TestAccount = await createTestAccount(apps[0]!);
    const username = kind === "account login" ? victim.email : victim.apiUsername;
    const spies = apps.map((app) => (kind === "account login" ? vi.spyOn(app.services.accounts, "verifyLogin") : vi.spyOn(app.services.credentials, "verify")));
    try {
      const statuses = (await Promise.all(apps.map((app) => parallelGuesses(app, username, 50)))).flat();
      expect(tally(statuses)).toEqual({ 401: 10, 429: 90 });
      expect(spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0)).toBe(10);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});
