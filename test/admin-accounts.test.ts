import { afterAll, beforeAll, expect, it } from "vitest";
import { basic, call, describeEachDialect, startTestApp, type TestApp } from "./support/app.js";

describeEachDialect("operator API: accounts", (dialect) => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp(dialect);
    admin = `Bearer ${app.adminToken}`;
  });
  afterAll(() => app.close());

  it("refuses requests without the admin token with 401", async () => {
    for (const auth of [undefined, "Bearer wrong-token", basic("admin", app.adminToken)]) {
      const { status, json } = await call(app, "GET", "/admin/v1/accounts", { auth });
      expect(status).toBe(401);
      expect(json).toEqual({ httpStatusCode: 401, internalCode: 0, message: "the operator API needs Authorization: Bearer <admin token>" });
    }
  });

  it("creates an account (201) that can log in, lists it and fetches it", async () => {
    const created = await call(app, "POST", "/admin/v1/accounts", {
      auth: admin,
      body: { email: "Owner@Example.com", password: "s3cret-password", name: "Owner Inc", firstName: "Olive", lastName: "Owner" },
    });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ id: expect.any(Number), email: "owner@example.com", name: "Owner Inc", firstName: "Olive", lastName: "Owner", created: expect.any(Number) });
    expect(created.json.created).toBeGreaterThan(Date.now() - 60_000);

    const me = await call(app, "GET", "/v2/me/account", { auth: basic("owner@example.com", "s3cret-password") });
    expect(me.json.id).toBe(created.json.id);

    const one = await call(app, "GET", `/admin/v1/accounts/${created.json.id}`, { auth: admin });
    expect(one.json).toEqual(created.json);

    const list = await call(app, "GET", "/admin/v1/accounts?limit=10", { auth: admin });
    expect(list.json).toMatchObject({ limit: 10, offset: 0, totalCount: 1 });
    expect(list.json.items).toEqual([created.json]);
  });

  it("refuses a duplicate email, whatever its case, with 409", async () => {
    const { status, json } = await call(app, "POST", "/admin/v1/accounts", { auth: admin, body: { email: "OWNER@example.com", password: "another-password" } });
    expect(status).toBe(409);
    expect(json).toEqual({ httpStatusCode: 409, internalCode: 0, message: "an account with email owner@example.com already exists" });
  });

  it.each([
    [{ email: "not-an-email", password: "long enough" }, 'email: "not-an-email" is not an email address'],
    [{ email: "a@b.c", password: "short" }, "body password: must NOT have fewer than 8 characters"],
    [{ email: "a@b.c" }, "body field password: is required"],
    [{ email: "a@b.c", password: "long enough", role: "admin" }, "body: unknown field role"],
    [{ email: "a@b.c", password: "long enough", name: "" }, "body name: must NOT have fewer than 1 characters"],
  ])("refuses %j with 400 and creates nothing", async (body, message) => {
    const { status, json } = await call(app, "POST", "/admin/v1/accounts", { auth: admin, body });
    expect(status).toBe(400);
    expect(json).toEqual({ httpStatusCode: 400, internalCode: 0, message });
    expect((await call(app, "GET", "/admin/v1/accounts", { auth: admin })).json.totalCount).toBe(1);
  });

  it("sets a password: the old one stops working, the new one works", async () => {
    const created = await call(app, "POST", "/admin/v1/accounts", { auth: admin, body: { email: "pw@example.com", password: "first-password" } });
    const changed = await call(app, "PUT", `/admin/v1/accounts/${created.json.id}/password`, { auth: admin, body: { password: "second-password" } });
    expect(changed.status).toBe(204);
    expect((await call(app, "GET", "/v2/me/account", { auth: basic("pw@example.com", "first-password") })).status).toBe(401);
    expect((await call(app, "GET", "/v2/me/account", { auth: basic("pw@example.com", "second-password") })).status).toBe(200);
  });

  it("answers unknown and malformed account ids with 404 and 400", async () => {
    expect((await call(app, "GET", "/admin/v1/accounts/424242", { auth: admin })).json).toEqual({ httpStatusCode: 404, internalCode: 0, message: "account 424242 not found" });
    expect((await call(app, "PUT", "/admin/v1/accounts/424242/password", { auth: admin, body: { password: "whatever-123" } })).status).toBe(404);
    expect((await call(app, "GET", "/admin/v1/accounts/abc", { auth: admin })).status).toBe(400);
  });
});
