import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basic, call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";

describeEachDialect("accounts and API credentials", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  let bob: TestAccount;

  beforeAll(async () => {
    app = await startTestApp(dialect);
    alice = await createTestAccount(app);
    bob = await createTestAccount(app);
  });
  afterAll(() => app.close());

  describe("getAccount", () => {
    it("returns the account with the account holder's permissions, for API credentials too", async () => {
      for (const auth of [alice.api, alice.login]) {
        const { status, json, headers } = await call(app, "GET", "/v2/me/account", { auth });
        expect(status).toBe(200);
        expect(headers.get("content-type")).toBe("application/json; charset=utf-8");
        expect(headers.get("x-content-type-options")).toBe("nosniff");
        expect(json).toEqual({
          id: alice.id,
          email: alice.email,
          name: "Test Account",
          firstName: "Test",
          lastName: "User",
          permissions: ["ACCOUNT_HOLDER", "API"],
        });
      }
    });

    it("applies fields", async () => {
      const { json } = await call(app, "GET", "/v2/me/account?fields=id%2Cemail", { auth: alice.api });
      expect(json).toEqual({ id: alice.id, email: alice.email });
    });

    it("omits absent fields instead of sending null", async () => {
      const bare = await app.services.accounts.create({ email: `bare-${dialect}@example.com`, password: "password123" });
      const { text } = await call(app, "GET", "/v2/me/account", { auth: basic(`bare-${dialect}@example.com`, "password123") });
      expect(JSON.parse(text)).toEqual({ id: bare.id, email: `bare-${dialect}@example.com`, permissions: ["ACCOUNT_HOLDER", "API"] });
      expect(text).not.toContain("null");
    });
  });

  describe("createApiCredential", () => {
    it("creates an enabled credential and shows its password once", async () => {
      const { status, json } = await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, body: { name: "ci" } });
      expect(status).toBe(200);
      expect(json).toEqual({ id: expect.any(Number), name: "ci", username: expect.stringMatching(/^[0-9a-f]{12}$/), password: expect.stringMatching(/^[0-9a-f]{16,}$/), enabled: true });
      const again = await call(app, "GET", `/v2/me/api/credentials/${json.id}`, { auth: alice.login });
      expect(again.json.password).toBe(`****${json.password.slice(-4)}`);
      const works = await call(app, "GET", "/v2/me/account", { auth: basic(json.username, json.password) });
      expect(works.status).toBe(200);
      expect(works.json.id).toBe(alice.id);
    });

    it.each([
      ["an empty name", { name: "" }, "body name: must NOT have fewer than 1 characters"],
      ["a name of 10,000 characters", { name: "x".repeat(10_000) }, "body name: must NOT have more than 255 characters"],
      ["no name", {}, "body field name: is required"],
      ["a JSON array", [{ name: "x" }], "body: must be object"],
      ["a JSON null", null, "body: must be object"],
    ])("refuses %s with 400 and creates nothing", async (_label, body, message) => {
      const before = await call(app, "GET", "/v2/me/api/credentials", { auth: alice.login });
      const { status, json } = await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, rawBody: JSON.stringify(body), headers: { "content-type": "application/json" } });
      expect(status).toBe(400);
      expect(json).toEqual({ httpStatusCode: 400, internalCode: 0, message });
      const after = await call(app, "GET", "/v2/me/api/credentials", { auth: alice.login });
      expect(after.json.totalCount).toBe(before.json.totalCount);
    });

    it("refuses a missing body with 400", async () => {
      const { status, json } = await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, headers: { "content-type": "application/json" } });
      expect(status).toBe(400);
      expect(json.message).toBe("body: must be object");
    });

    it("refuses invalid JSON with 400", async () => {
      const { status, json } = await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, rawBody: '{"name": ', headers: { "content-type": "application/json" } });
      expect(status).toBe(400);
      expect(json.message).toMatch(/^request body is not valid JSON/);
    });

    it("stores SQL and HTML in names as plain text", async () => {
      for (const name of ["'); drop table api_credential; --", "<script>alert(1)</script>"]) {
        const created = await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, body: { name } });
        expect(created.status).toBe(200);
        const found = await call(app, "GET", `/v2/me/api/credentials?name=${encodeURIComponent(name)}`, { auth: alice.login });
        expect(found.json.items.map((c: { name: string }) => c.name)).toEqual([name]);
      }
    });

    it("refuses a 2 MiB body with 413", async () => {
      const { status, json } = await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, body: { name: "x".repeat(2 * 1024 * 1024) } });
      expect(status).toBe(413);
      expect(json).toEqual({ httpStatusCode: 413, internalCode: 0, message: "request body is larger than the 1 MiB limit" });
    });

    it("refuses a non-JSON body with 400 saying what to send", async () => {
      const { status, json } = await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, rawBody: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(status).toBe(400);
      expect(json).toEqual({ httpStatusCode: 400, internalCode: 0, message: "unsupported content type application/x-www-form-urlencoded: send application/json" });
    });

    it("refuses a multipart body on a route that takes no upload, saying what to send", async () => {
      const form = new FormData();
      form.set("name", "from-a-form");
      const response = await fetch(`${app.baseUrl}/v2/me/api/credentials`, { method: "POST", headers: { authorization: alice.login }, body: form });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ httpStatusCode: 400, internalCode: 0, message: expect.stringMatching(/^unsupported content type multipart\/form-data; boundary=.*: send application\/json$/) });
      const list = await call(app, "GET", "/v2/me/api/credentials?name=from-a-form", { auth: alice.login });
      expect(list.json.items).toEqual([]);
    });

    it("accepts a bodiless POST whatever content type it names, as curl -d '' sends", async () => {
      const created = await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, body: { name: "form-toggle" } });
      const { status, text } = await call(app, "POST", `/v2/me/api/credentials/${created.json.id}/disable`, { auth: alice.login, rawBody: "", headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(status).toBe(200);
      expect(text).toBe("");
    });
  });

  describe("findApiCredentials", () => {
    it("pages by id, masks passwords and filters by exact name", async () => {
      const carol = await createTestAccount(app);
      for (const name of ["one", "two", "three"]) await call(app, "POST", "/v2/me/api/credentials", { auth: carol.login, body: { name } });
      const all = await call(app, "GET", "/v2/me/api/credentials", { auth: carol.login });
      expect(all.json).toMatchObject({ limit: 100, offset: 0, totalCount: 4 });
      expect(all.json.items.map((c: { name: string }) => c.name)).toEqual(["test", "one", "two", "three"]);
      for (const item of all.json.items) expect(item.password).toMatch(/^\*\*\*\*[0-9a-f]{4}$/);

      const page = await call(app, "GET", "/v2/me/api/credentials?limit=2&offset=1", { auth: carol.login });
      expect(page.json).toMatchObject({ limit: 2, offset: 1, totalCount: 4 });
      expect(page.json.items.map((c: { name: string }) => c.name)).toEqual(["one", "two"]);

      const named = await call(app, "GET", "/v2/me/api/credentials?name=tw", { auth: carol.login });
      expect(named.json).toEqual({ items: [], limit: 100, offset: 0, totalCount: 0 });
    });

    it("applies nested fields to every item", async () => {
      const { json } = await call(app, "GET", "/v2/me/api/credentials?fields=items(name,enabled),totalCount", { auth: bob.login });
      expect(json).toEqual({ items: [{ name: "test", enabled: true }], totalCount: 1 });
    });

    it.each([
      ["limit=0", "query parameter limit: must be >= 1"],
      ["limit=1001", "query parameter limit: must be <= 1000"],
      ["offset=-1", "query parameter offset: must be >= 0"],
      ["limit=ten", "query parameter limit: must be integer"],
      ["fields=items(id", 'fields: expected \')\' at the end of "items(id"'],
      ["fields=id)", 'fields: unexpected \')\' at position 3 of "id)"'],
      ["fields=id,,name", 'fields: expected a field name at position 4 of "id,,name"'],
    ])("refuses %s with 400", async (query, message) => {
      const { status, json } = await call(app, "GET", `/v2/me/api/credentials?${query}`, { auth: bob.login });
      expect(status).toBe(400);
      expect(json).toEqual({ httpStatusCode: 400, internalCode: 0, message });
    });
  });

  describe("tenancy", () => {
    it("answers another account's credential as not found, on every operation", async () => {
      const mine = await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, body: { name: "private" } });
      const id = mine.json.id;
      for (const [method, path, status] of [
        ["GET", `/v2/me/api/credentials/${id}`, 404],
        ["DELETE", `/v2/me/api/credentials/${id}`, 404],
        ["POST", `/v2/me/api/credentials/${id}/disable`, 404],
        ["POST", `/v2/me/api/credentials/${id}/enable`, 404],
      ] as const) {
        const response = await call(app, method, path, { auth: bob.login });
        expect(response.status, `${method} ${path}`).toBe(status);
        expect(response.json).toEqual({ httpStatusCode: 404, internalCode: 0, message: `api credential ${id} not found` });
      }
      const listed = await call(app, "GET", "/v2/me/api/credentials", { auth: bob.login });
      expect(listed.json.items.map((c: { id: number }) => c.id)).not.toContain(id);
      const still = await call(app, "GET", "/v2/me/account", { auth: basic(mine.json.username, mine.json.password) });
      expect(still.status).toBe(200);
    });
  });

  describe("delete, disable and enable", () => {
    it("deletes with 204, then the credential is gone and stops authenticating at once", async () => {
      const created = await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, body: { name: "short-lived" } });
      const auth = basic(created.json.username, created.json.password);
      expect((await call(app, "GET", "/v2/me/account", { auth })).status).toBe(200);

      const deleted = await call(app, "DELETE", `/v2/me/api/credentials/${created.json.id}`, { auth: alice.login });
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");

      expect((await call(app, "GET", `/v2/me/api/credentials/${created.json.id}`, { auth: alice.login })).status).toBe(404);
      expect((await call(app, "DELETE", `/v2/me/api/credentials/${created.json.id}`, { auth: alice.login })).status).toBe(404);
      const refused = await call(app, "GET", "/v2/me/account", { auth });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toBe('Basic realm="switchboard"');
    });

    it("disables (401 from then on) and enables again, answering 200 with an empty body, also for Content-Type: application/json with no body", async () => {
      const created = await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, body: { name: "toggle" } });
      const auth = basic(created.json.username, created.json.password);
      expect((await call(app, "GET", "/v2/me/account", { auth })).status).toBe(200);

      const disabled = await call(app, "POST", `/v2/me/api/credentials/${created.json.id}/disable`, { auth: alice.login, headers: { "content-type": "application/json" } });
      expect(disabled.status).toBe(200);
      expect(disabled.text).toBe("");
      expect((await call(app, "GET", "/v2/me/account", { auth })).status).toBe(401);
      expect((await call(app, "GET", `/v2/me/api/credentials/${created.json.id}`, { auth: alice.login })).json.enabled).toBe(false);

      const enabled = await call(app, "POST", `/v2/me/api/credentials/${created.json.id}/enable`, { auth: alice.login });
      expect(enabled.status).toBe(200);
      expect((await call(app, "GET", "/v2/me/account", { auth })).status).toBe(200);
    });

    it.each(["abc", "-1", "0", "1.5", "99999999999999999999"])("refuses the id %s with 400", async (id) => {
      const { status, json } = await call(app, "GET", `/v2/me/api/credentials/${id}`, { auth: alice.login });
      expect(status).toBe(400);
      expect(json.message).toMatch(/^path parameter id: /);
    });

    it("answers an unknown id with 404", async () => {
      const { status, json } = await call(app, "GET", "/v2/me/api/credentials/987654321", { auth: alice.login });
      expect(status).toBe(404);
      expect(json).toEqual({ httpStatusCode: 404, internalCode: 0, message: "api credential 987654321 not found" });
    });
  });

  describe("permissions", () => {
    it.each([
      ["GET", "/v2/me/api/credentials"],
      ["POST", "/v2/me/api/credentials"],
      ["GET", "/v2/me/api/credentials/1"],
      ["DELETE", "/v2/me/api/credentials/1"],
      ["POST", "/v2/me/api/credentials/1/enable"],
      ["POST", "/v2/me/api/credentials/1/disable"],
    ])("API credentials get 403 on %s %s", async (method, path) => {
      const { status, json } = await call(app, method, path, { auth: alice.api, body: method === "POST" ? { name: "x" } : undefined });
      expect(status).toBe(403);
      expect(json).toEqual({ httpStatusCode: 403, internalCode: 0, message: "this operation needs the account's own login, not API credentials" });
    });
  });
});
