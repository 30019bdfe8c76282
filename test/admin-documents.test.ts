import type { RouteOptions } from "fastify";
import { validate } from "oas-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startTestApp, type TestApp } from "./support/app.js";

describe("the operator API's own documents", () => {
  let app: TestApp;
  const routes: RouteOptions[] = [];
  beforeAll(async () => {
    app = await startTestApp("sqlite", { onRoute: (route) => void routes.push(route) });
  });
  afterAll(() => app.close());

  it("publishes every /admin/v1 operation, and nothing else, at /admin/v1/openapi.json without the token", async () => {
    const { status, json } = await call(app, "GET", "/admin/v1/openapi.json");
    expect(status).toBe(200);
    expect(json.openapi).toBe("3.0.3");
    expect(json.servers).toEqual([{ url: `${app.baseUrl}/admin/v1` }]);
    // The route table as Fastify built it, so routes added later are covered without listing them here.
    const expected = routes
      .filter((route) => route.url.startsWith("/admin/v1/") && !route.schema?.hide)
      .flatMap((route) => [route.method].flat().filter((method) => method !== "HEAD").map((method) => `${method.toLowerCase()} ${openapiPath(route.url.slice("/admin/v1".length))}`));
    expect(expected.length).toBeGreaterThan(10);
    const published = Object.entries(json.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));
    expect(published.sort()).toEqual([...new Set(expected)].sort());
  });

  it("declares the bearer scheme for every operation, so Authorize takes the admin token", async () => {
    const { json } = await call(app, "GET", "/admin/v1/openapi.json");
    expect(json.components.securitySchemes).toEqual({ adminToken: { type: "http", scheme: "bearer", description: "the admin token" } });
    expect(json.security).toEqual([{ adminToken: [] }]);
    for (const [path, methods] of Object.entries(json.paths as Record<string, Record<string, { security?: unknown; tags: string[] }>>)) {
      for (const [method, operation] of Object.entries(methods)) {
        expect(operation.security, `${method} ${path}`).toBeUndefined();
        expect(operation.tags, `${method} ${path}`).toHaveLength(1);
      }
    }
    const upload = json.paths["/calls/{callId}/recordings"].post.requestBody.content;
    expect(Object.keys(upload).sort()).toEqual(["application/json", "multipart/form-data"]);
    expect(upload["multipart/form-data"].schema.properties.file).toMatchObject({ type: "string", format: "binary" });
    expect(json.paths["/accounts"].post.tags).toEqual(["accounts"]);
    expect(json.paths["/accounts/{id}/plan"].put.tags).toEqual(["billing"]);
    expect(json.paths["/calls/{id}/outcome"].post.tags).toEqual(["calls"]);
  });

  it("holds only the schemas and tags its operations use", async () => {
    const { json } = await call(app, "GET", "/admin/v1/openapi.json");
    // The error body is the operator API's too; /v2's resources are not.
    expect(Object.keys(json.components.schemas)).toContain("ErrorResponse");
    expect(Object.keys(json.components.schemas)).not.toContain("ApiCredentialPage");
    const text = JSON.stringify(json);
    for (const name of Object.keys(json.components.schemas)) expect(text, name).toContain(`"#/components/schemas/${name}"`);
    const used = new Set(Object.values(json.paths as Record<string, Record<string, { tags: string[] }>>).flatMap((methods) => Object.values(methods).flatMap((op) => op.tags)));
    expect(json.tags.map((tag: { name: string }) => tag.name).sort()).toEqual([...used].sort());
  });

  it("is a valid OpenAPI 3 document", async () => {
    const { json } = await call(app, "GET", "/admin/v1/openapi.json");
    const result = await validate(json, { lint: false, resolve: false });
    expect(result.valid).toBe(true);
  });

  it("serves it browsable at /admin/docs, branded as /docs, and leaves /docs with /v2's document", async () => {
    const page = await fetch(`${app.baseUrl}/admin/docs`, { redirect: "follow" });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("swagger-ui");
    expect(html).toContain("<title>Switchboard operator API reference</title>");
    expect((await call(app, "GET", "/admin/docs/static/theme/favicon.svg")).text).toContain("<svg");
    const adminUi = (await call(app, "GET", "/admin/docs/json")).json;
    expect(adminUi.info.title).toBe("Switchboard operator API");
    expect(adminUi.paths).toEqual((await call(app, "GET", "/admin/v1/openapi.json")).json.paths);
    const v2Ui = (await call(app, "GET", "/docs/json")).json;
    expect(v2Ui.swagger).toBe("2.0");
    expect(Object.keys(v2Ui.paths).some((path) => path.includes("admin"))).toBe(false);
  });

  it("still asks for the token on the operations it describes", async () => {
    expect((await call(app, "GET", "/admin/v1/accounts")).status).toBe(401);
    expect((await call(app, "GET", "/admin/v1/accounts", { auth: `Bearer ${app.adminToken}` })).status).toBe(200);
  });
});

/** Fastify's `/calls/:id` as OpenAPI writes it: `/calls/{id}`. */
function openapiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}
