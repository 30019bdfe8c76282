import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { admin, ingestCall } from "./support/calls.js";

const badRequest = (message: string) => ({ status: 400, json: { httpStatusCode: 400, internalCode: 0, message } });

describeEachDialect("strict input", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  let credentialId: number;
  let callId: number;

  beforeAll(async () => {
    app = await startTestApp(dialect);
    alice = await createTestAccount(app);
    credentialId = (await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, body: { name: "kept" } })).json.id;
    callId = (await ingestCall(app, alice.id)).json.id;
  });
  afterAll(() => app.close());

  const answer = async (method: string, path: string, options: Parameters<typeof call>[3] = {}) => {
    const { status, json } = await call(app, method, path, options);
    return { status, json };
  };
  const credentials = async () => (await call(app, "GET", "/v2/me/api/credentials", { auth: alice.login })).json.items;
  const billing = async () => (await admin(app, "GET", `/accounts/${alice.id}/billing`)).json;

  describe("JSON bodies are not coerced", () => {
    it("refuses {amount: true} without adding a credit", async () => {
      const before = await billing();
      const { status, json } = await admin(app, "POST", `/accounts/${alice.id}/credits`, { amount: true });
      expect({ status, json }).toEqual(badRequest("body amount: must be number"));
      expect(await billing()).toEqual(before);
    });

    it.each([
      ["a number", 123, "body name: must be string"],
      ["a boolean", true, "body name: must be string"],
      ["an array", ["x"], "body name: must be string"],
    ])("refuses a credential name that is %s without creating one", async (_label, name, message) => {
      const before = await credentials();
      expect(await answer("POST", "/v2/me/api/credentials", { auth: alice.login, body: { name } })).toEqual(badRequest(message));
      expect(await credentials()).toEqual(before);
    });

    it.each([
      ["durationSeconds", "61", "body durationSeconds: must be integer"],
      ["startTime", "1764322200000", "body startTime: must be integer"],
      ["fromNumber", 12135551189, "body fromNumber: must be string"],
    ])("refuses a call whose %s has the wrong JSON type", async (field, value, message) => {
      const before = await billing();
      const { status, json } = await ingestCall(app, alice.id, { [field]: value });
      expect({ status, json }).toEqual(badRequest(message));
      expect(await billing()).toEqual(before);
    });

    it("refuses texts counted as a string", async () => {
      const { status, json } = await admin(app, "POST", `/accounts/${alice.id}/texts`, { count: "3" });
      expect({ status, json }).toEqual(badRequest("body count: must be integer"));
    });
  });

  describe("query and path strings are numbers only in exactly the declared form", () => {
    it.each(["6e0", "1e400", "1.0", "+6", "%206", "0x6", "6%20", "9007199254740993", "0", "-1"])(
      "refuses DELETE /v2/me/api/credentials/%s without deleting anything",
      async (id) => {
        const before = await credentials();
        const { status, json } = await answer("DELETE", `/v2/me/api/credentials/${id}`, { auth: alice.login });
        expect(status).toBe(400);
        expect(json.message).toMatch(/^path parameter id: must be (integer|>= 1|<= 9007199254740991)$/);
        expect(await credentials()).toEqual(before);
      },
    );

    it("still deletes by a plain id", async () => {
      const extra = (await call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, body: { name: "to delete" } })).json.id;
      expect((await answer("DELETE", `/v2/me/api/credentials/${extra}`, { auth: alice.login })).status).toBe(204);
      expect((await credentials()).map((c: { id: number }) => c.id)).toContain(credentialId);
    });

    const pagedLists = () => [
      ["/v2/me/api/credentials", alice.login],
      ["/v2/media", alice.api],
      ["/admin/v1/accounts", `Bearer ${app.adminToken}`],
      ["/admin/v1/outbox", `Bearer ${app.adminToken}`],
    ];
    it.each([
      ["limit=1e309", "query parameter limit: must be integer"],
      ["offset=1e400", "query parameter offset: must be integer"],
      ["limit=5.0", "query parameter limit: must be integer"],
      ["limit=Infinity", "query parameter limit: must be integer"],
      ["limit=NaN", "query parameter limit: must be integer"],
      ["offset=", "query parameter offset: must be integer"],
      ["limit=1001", "query parameter limit: must be <= 1000"],
    ])("refuses ?%s on every paged list", async (query, message) => {
      for (const [path, auth] of pagedLists()) {
        expect(await answer("GET", `${path}?${query}`, { auth })).toEqual(badRequest(message));
      }
    });

    it("pages with plain integers, and refuses a repeated limit", async () => {
      const page = await answer("GET", "/v2/me/api/credentials?limit=1&offset=0", { auth: alice.login });
      expect(page.status).toBe(200);
      expect(page.json).toMatchObject({ limit: 1, offset: 0 });
      expect(await answer("GET", "/v2/me/api/credentials?limit=1&limit=2", { auth: alice.login })).toEqual(badRequest("query parameter limit: must be integer"));
    });

    it.each([
      `/v2/media/1e400`,
      `/v2/media/1e400.mp3`,
      `/v2/media/1e400/file`,
      `/v2/me/api/credentials/1e400`,
      `/v2/calls/1e400/recordings`,
      `/v2/calls/1e400/recordings/a`,
      `/v2/calls/1e400/recordings/a.mp3`,
      `/v2/calls/recordings/1e400`,
      `/v2/calls/recordings/1e400.mp3`,
    ])("refuses the path id of GET %s", async (path) => {
      expect(await answer("GET", path, { auth: alice.login })).toEqual(badRequest("path parameter id: must be integer"));
    });

    it("refuses intervalBegin=1e309 on getCreditUsage", async () => {
      expect(await answer("GET", "/v2/me/billing/credit-usage?intervalBegin=1e309", { auth: alice.api })).toEqual(
        badRequest("query parameter intervalBegin: must be integer"),
      );
    });

    it("refuses accountId=2.0 on the outbox", async () => {
      const { status, json } = await call(app, "GET", "/admin/v1/outbox?accountId=2.0", { auth: `Bearer ${app.adminToken}` });
      expect({ status, json }).toEqual(badRequest("query parameter accountId: must be integer"));
    });
  });

  describe("NUL and control characters", () => {
    it("answers NUL in Basic credentials with 401", async () => {
      const { status, json, headers } = await call(app, "GET", "/v2/me/account", { auth: "Basic YQBiOng=" });
      expect({ status, json }).toEqual({ status: 401, json: { httpStatusCode: 401, internalCode: 0, message: "invalid or missing credentials" } });
      expect(headers.get("www-authenticate")).toBe('Basic realm="switchboard"');
    });

    it.each([
      ["a query parameter", "GET", "/v2/media?filter=a%00b", "query parameter filter: must not contain NUL characters"],
      ["fields", "GET", "/v2/me/account?fields=id%00", "query parameter fields: must not contain NUL characters"],
      ["a path parameter", "GET", "/v2/calls/1/recordings/a%00b", "path parameter name: must not contain NUL characters"],
      ["a caller id", "POST", "/v2/me/callerids/1213555%0011", "path parameter callerid: must not contain NUL characters"],
      ["a public media key", "GET", "/v2/media/public/%00.mp3", "path parameter key: must not contain NUL characters"],
    ])("refuses NUL in %s with 400", async (_label, method, path, message) => {
      expect(await answer(method, path, { auth: alice.api })).toEqual(badRequest(message));
    });

    it.each([
      ["a field", '{"name":"a\\u0000b"}', "body field name: must not contain NUL characters"],
      ["a key", '{"na\\u0000me":"x"}', "body field na\u0000me: must not contain NUL characters"],
      ["a nested value", '{"name":"x","more":{"list":["ok","\\u0000"]}}', "body field more.list.1: must not contain NUL characters"],
    ])("refuses NUL in %s of a JSON body, before anything is stored", async (_label, rawBody, message) => {
      const before = await credentials();
      const response = await answer("POST", "/v2/me/api/credentials", { auth: alice.login, rawBody, headers: { "content-type": "application/json" } });
      expect(response).toEqual(badRequest(message));
      expect(await credentials()).toEqual(before);
    });

    it("refuses NUL in an operator's JSON body", async () => {
      const { status, json } = await admin(app, "POST", "/accounts", { email: "nul@example.com", password: "long enough\u0000" });
      expect({ status, json }).toEqual(badRequest("body field password: must not contain NUL characters"));
      expect((await admin(app, "GET", "/accounts?limit=1000")).json.items.map((a: { email: string }) => a.email)).not.toContain("nul@example.com");
    });

    it("accepts \\\\u0000 as text", async () => {
      const created = await answer("POST", "/v2/me/api/credentials", { auth: alice.login, body: { name: "\\u0000" } });
      expect(created.status).toBe(200);
      expect(created.json.name).toBe("\\u0000");
    });

    it.each([
      ["a credential name", () => call(app, "POST", "/v2/me/api/credentials", { auth: alice.login, body: { name: "two\nlines" } }), "body name: must not contain control characters"],
      ["an email", () => admin(app, "POST", "/accounts", { email: "tab\t@example.com", password: "long enough" }), "body email: must not contain control characters"],
      ["a plan name", () => admin(app, "PUT", `/accounts/${alice.id}/plan`, { name: "Gold\u001b", monthlyCredits: 1, creditsPerCallMinute: 1, creditsPerText: 1 }), "body name: must not contain control characters"],
      ["an externalId", () => ingestCall(app, alice.id, { externalId: "pbx\u007f1" }), "body externalId: must not contain control characters"],
      ["a recording name", () => admin(app, "POST", `/calls/${callId}/recordings`, { name: "live\r", state: "RECORDING" }), "body name: must not contain control characters"],
      ["a media filter", () => call(app, "GET", "/v2/media?filter=%09", { auth: alice.api }), "query parameter filter: must not contain control characters"],
    ])("refuses a control character in %s", async (_label, send, message) => {
      const before = await billing();
      const { status, json } = await send();
      expect({ status, json }).toEqual(badRequest(message));
      expect(await billing()).toEqual(before);
    });

    it("keeps tabs and newlines in a password, which is free text", async () => {
      const { status } = await admin(app, "POST", "/accounts", { email: "free-text@example.com", password: "tab\tand\nnewline" });
      expect(status).toBe(201);
    });
  });
});
