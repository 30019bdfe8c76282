import fs from "node:fs";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RawSettings } from "../src/config.js";
import { call, createTestAccount, startTestApp, type TestApp } from "./support/app.js";
import { ingestCall, uploadRecording } from "./support/calls.js";
import { fixture, upload } from "./support/media.js";

describe("served documents and operations endpoints", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp("sqlite");
  });
  afterAll(() => app.close());

  it("publishes Swagger 2.0 pointing at this server, with CallFire's tags, operationIds and definitions", async () => {
    // fetch will not send another Host header; node:http will, as a proxy in front of us would.
    const { status, json } = await getWithHost(`${app.baseUrl}/v2/api-docs/swagger.json`, "api.example.test:9999");
    expect(status).toBe(200);
    expect(json).toMatchObject({ swagger: "2.0", host: "api.example.test:9999", schemes: ["http"], basePath: "/v2" });
    expect(json.securityDefinitions).toEqual({ basicAuth: { type: "basic" } });
    const operations = Object.entries(json.paths as Record<string, Record<string, { operationId: string; tags: string[]; security: unknown }>>).flatMap(
      ([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, ...op })),
    );
    expect(operations.map((o) => `${o.method} ${o.path} ${o.tags.join()}.${o.operationId}`).sort()).toEqual(
      expect.arrayContaining([
        "get /me/account me.getAccount",
        "get /me/api/credentials me.findApiCredentials",
        "post /me/api/credentials me.createApiCredential",
        "get /me/api/credentials/{id} me.getApiCredential",
        "delete /me/api/credentials/{id} me.deleteApiCredential",
        "post /me/api/credentials/{id}/enable me.enableApiCredentials",
        "post /me/api/credentials/{id}/disable me.disableApiCredentials",
        "post /media media.createMedia",
        "get /media media.findMedia",
        "get /media/{id} media.getMedia",
        "get /media/{id}.{extension} media.getMediaData",
        "get /media/{id}/file media.getMediaDataBinary",
        "get /media/public/{key}.{extension} media.getMediaDataByKey",
      ]),
    );
    // The public download needs no credentials: `security: []` (no lock in /docs; swagger-client 2.x then sends none).
    for (const op of operations) {
      expect(op.security, `${op.method} ${op.path}`).toEqual(op.operationId === "getMediaDataByKey" ? [] : [{ basicAuth: [] }]);
    }
    expect(operations.some((o) => o.path.startsWith("/admin") || o.path.includes("api-docs"))).toBe(false);
    expect(Object.keys(json.definitions)).toEqual(expect.arrayContaining(["Account", "ApiCredential", "ApiCredentialPage", "ErrorResponse", "ResourceId", "Media", "MediaPage"]));
    const createMedia = json.paths["/media"].post;
    expect(createMedia.consumes).toEqual(["multipart/form-data"]);
    expect(createMedia.parameters.map((p: { name: string; in: string; type: string; required: boolean }) => [p.name, p.in, p.type, p.required])).toEqual([
      ["file", "formData", "file", true],
      ["name", "formData", "string", false],
    ]);
    expect(json.paths["/media/{id}.{extension}"].get.responses[200].schema.type).toBe("file");
    expect(json.paths["/media/{id}"].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(["fields", "id"]);
    expect(json.paths["/media/{id}/file"].get.parameters.map((p: { name: string }) => p.name)).toEqual(["id"]);
    const fields = json.paths["/me/account"].get.parameters.find((p: { name: string }) => p.name === "fields");
    expect(fields).toMatchObject({ in: "query", type: "string", required: false });
  });

  it("requires no parameter that CallFire does not require, and declares every one CallFire declares, where CallFire does", async () => {
    // CallFire's declarations per operation (test/fixtures/callfire/README.md says where they come from).
    const callfire: Record<string, { operation: string; required: string[]; optional: string[] }> = JSON.parse(
      fs.readFileSync(new URL("./fixtures/callfire/parameters.json", import.meta.url), "utf8"),
    );
    const { json } = await call(app, "GET", "/v2/api-docs/swagger.json");
    const served = Object.entries(json.paths as Record<string, Record<string, { operationId: string; parameters?: Array<{ name: string; in: string; required?: boolean }> }>>).flatMap(
      ([path, methods]) => Object.entries(methods).map(([method, op]) => ({ operation: `${method.toUpperCase()} ${path}`, ...op })),
    );
    const required = Object.fromEntries(served.map((op) => [op.operationId, (op.parameters ?? []).filter((p) => p.required).map((p) => `${p.in}:${p.name}`).sort()]));
    const declared = Object.fromEntries(served.map((op) => [op.operationId, (op.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort()]));
    for (const op of served) {
      expect(callfire[op.operationId], `${op.operationId}: add CallFire's parameters to test/fixtures/callfire/parameters.json`).toBeDefined();
      expect(op.operation, op.operationId).toBe(callfire[op.operationId]!.operation);
      expect(required[op.operationId], op.operationId).toEqual(callfire[op.operationId]!.required.slice().sort());
      expect(declared[op.operationId], op.operationId).toEqual(expect.arrayContaining([...callfire[op.operationId]!.required, ...callfire[op.operationId]!.optional]));
    }
    const paged = (operationId: string) => served.find((op) => op.operationId === operationId)!.parameters!.filter((p) => p.in === "query" && ["limit", "offset"].includes(p.name));
    for (const operationId of ["findApiCredentials", "findMedia"]) {
      expect(paged(operationId), operationId).toEqual([
        expect.objectContaining({ name: "limit", required: false, type: "integer", default: 100, minimum: 1, maximum: 1000 }),
        expect.objectContaining({ name: "offset", required: false, type: "integer", default: 0, minimum: 0 }),
      ]);
    }
  });

  it("publishes the same contract as OpenAPI 3", async () => {
    const { json } = await call(app, "GET", "/openapi.json");
    expect(json.openapi).toMatch(/^3\./);
    expect(json.servers).toEqual([{ url: `${app.baseUrl}/v2` }]);
    expect(json.paths["/me/account"].get.operationId).toBe("getAccount");
    expect(json.components.schemas.Account.properties.permissions.type).toBe("array");
  });

  it("serves a browsable reference at /docs", async () => {
    const response = await fetch(`${app.baseUrl}/docs`, { redirect: "follow" });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("swagger-ui");
  });

  it("reports health, readiness and metrics", async () => {
    expect((await call(app, "GET", "/healthz")).json).toEqual({ status: "ok" });
    expect((await call(app, "GET", "/readyz")).json).toEqual({ status: "ok", checks: { database: "ok", blobs: "ok" } });
    const account = await createTestAccount(app);
    await call(app, "GET", "/v2/me/account", { auth: account.api });
    const metrics = await call(app, "GET", "/metrics");
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/switchboard_http_request_duration_seconds_count\{method="GET",route="\/v2\/me\/account",status="200"\} 1/);
  });

  it("answers unknown routes with 404 and known paths with the wrong method with 405, as ErrorMessages", async () => {
    const missing = await call(app, "GET", "/v2/no/such/thing");
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ httpStatusCode: 404, internalCode: 0, message: "no such resource: GET /v2/no/such/thing" });
    const wrongMethod = await call(app, "PUT", "/v2/me/account");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET, HEAD");
    expect(wrongMethod.json).toEqual({ httpStatusCode: 405, internalCode: 0, message: "method PUT is not allowed on /v2/me/account" });
  });
});

function getWithHost(url: string, host: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { host } }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(body) }));
      })
      .on("error", reject);
  });
}

describe("where the served documents and links send clients", () => {
  const forwarded = { "x-forwarded-proto": "https", "x-forwarded-host": "edge.example.net" };

  /** What a client is told, by the documents and by the links in a media file and a recording. */
  async function told(app: TestApp, headers: Record<string, string> = {}) {
    const account = await createTestAccount(app);
    const { json: media } = await upload(app, account.api, fixture("image.png"));
    const { json: callMade } = await ingestCall(app, account.id);
    const { json: recording } = await uploadRecording(app, "POST", `/calls/${callMade.id}/recordings`, fixture("tone.mp3"), { name: "greeting" });
    const swagger = (await call(app, "GET", "/v2/api-docs/swagger.json", { headers })).json;
    const ui = (await call(app, "GET", "/docs/json", { headers })).json;
    const openapi = (await call(app, "GET", "/openapi.json", { headers })).json;
    return {
      swagger: { host: swagger.host, basePath: swagger.basePath, schemes: swagger.schemes },
      docs: { host: ui.host, basePath: ui.basePath, schemes: ui.schemes },
      openapi: openapi.servers,
      publicUrl: (await call(app, "GET", `/v2/media/${media.id}`, { auth: account.api, headers })).json.publicUrl.replace(/public\/.*/, "public/…"),
      mp3Url: (await call(app, "GET", `/v2/calls/recordings/${recording.id}`, { auth: account.api, headers })).json.mp3Url,
      recordingId: recording.id,
    };
  }

  const expectTold = (seen: Awaited<ReturnType<typeof told>>, scheme: string, host: string, path = "") =>
    expect(seen).toEqual({
      swagger: { host, basePath: `${path}/v2`, schemes: [scheme] },
      docs: { host, basePath: `${path}/v2`, schemes: [scheme] },
      openapi: [{ url: `${scheme}://${host}${path}/v2` }],
      publicUrl: `${scheme}://${host}${path}/v2/media/public/…`,
      mp3Url: `${scheme}://${host}${path}/v2/calls/recordings/${seen.recordingId}.mp3`,
      recordingId: seen.recordingId,
    });

  const withApp = async (settings: RawSettings, use: (app: TestApp) => Promise<void>) => {
    const app = await startTestApp("sqlite", { settings });
    try {
      await use(app);
    } finally {
      await app.close();
    }
  };

  it("names SWITCHBOARD_PUBLIC_URL's scheme, host and path, whatever the request says", () =>
    withApp({ publicUrl: "https://api.example.com/callfire" }, async (app) => {
      expectTold(await told(app), "https", "api.example.com", "/callfire");
      expectTold(await told(app, forwarded), "https", "api.example.com", "/callfire");
    }));

  it("keeps a public URL's port", () =>
    withApp({ publicUrl: "http://sandbox.example.com:8443/" }, async (app) => expectTold(await told(app), "http", "sandbox.example.com:8443")));

  it("ignores X-Forwarded-Proto and -Host by default", () =>
    withApp({}, async (app) => expectTold(await told(app, forwarded), "http", new URL(app.baseUrl).host)));

  it.each(["true", "127.0.0.1", "loopback", "10.0.0.0/8, 127.0.0.0/8"])("believes them from a peer that SWITCHBOARD_TRUST_PROXY=%s names", (trustProxy) =>
    withApp({ trustProxy }, async (app) => {
      expectTold(await told(app, forwarded), "https", "edge.example.net");
      // Without the headers, the request itself.
      expectTold(await told(app), "http", new URL(app.baseUrl).host);
    }));

  it("ignores them from a peer that SWITCHBOARD_TRUST_PROXY does not name", () =>
    withApp({ trustProxy: "10.0.0.0/8,::1" }, async (app) => expectTold(await told(app, forwarded), "http", new URL(app.baseUrl).host)));
});
