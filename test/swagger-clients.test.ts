import { createRequire } from "node:module";
import SwaggerClient from "swagger-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basic, createTestAccount, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { fixture } from "./support/media.js";

// CallFire's own JS SDK is a thin wrapper over swagger-client 2.x: it loads
// /v2/api-docs/swagger.json and calls client.<tag>.<operationId>() with Basic auth registered as
// "basicAuth". Generic clients today use swagger-client 3.x. Both must work unchanged.

const require = createRequire(import.meta.url);
const SwaggerClient2 = require("swagger-client-2");

describe("generic Swagger clients", () => {
  let app: TestApp;
  let account: TestAccount;
  let apiUsername: string;
  let apiPassword: string;

  beforeAll(async () => {
    app = await startTestApp("sqlite");
    account = await createTestAccount(app);
    const credential = await app.services.credentials.create(account.id, "swagger");
    apiUsername = credential.username;
    apiPassword = credential.password;
  });
  afterAll(() => app.close());

  const specUrl = () => `${app.baseUrl}/v2/api-docs/swagger.json`;

  describe("swagger-client 3.x", () => {
    const connect = (username: string, password: string) =>
      SwaggerClient({ url: specUrl(), authorizations: { basicAuth: { username, password } } });

    it("calls getAccount by tag and operationId with API credentials", async () => {
      const client = await connect(apiUsername, apiPassword);
      const response = await client.apis.me.getAccount();
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: account.id, email: account.email, permissions: ["ACCOUNT_HOLDER", "API"] });
    });

    it("creates, lists, fetches, disables, enables and deletes a credential with the account login", async () => {
      const client = await connect(account.email, account.password);
      const created = await client.apis.me.createApiCredential({ body: { name: "from-swagger-3" } });
      expect(created.body).toMatchObject({ name: "from-swagger-3", enabled: true });
      const id = created.body.id;

      const page = await client.apis.me.findApiCredentials({ name: "from-swagger-3", fields: "items(id,name),totalCount" });
      expect(page.body).toEqual({ items: [{ id, name: "from-swagger-3" }], totalCount: 1 });

      const one = await client.apis.me.getApiCredential({ id });
      expect(one.body.password).toBe(`****${created.body.password.slice(-4)}`);

      expect((await client.apis.me.disableApiCredentials({ id })).status).toBe(200);
      expect((await client.apis.me.getApiCredential({ id })).body.enabled).toBe(false);
      expect((await client.apis.me.enableApiCredentials({ id })).status).toBe(200);

      expect((await client.apis.me.deleteApiCredential({ id })).status).toBe(204);
      await expect(client.apis.me.getApiCredential({ id })).rejects.toMatchObject({
        status: 404,
        response: { body: { httpStatusCode: 404, internalCode: 0, message: `api credential ${id} not found` } },
      });
    });

    it("uploads media as multipart, reads its metadata and downloads its bytes", async () => {
      const client = await connect(apiUsername, apiPassword);
      const bytes = fixture("image.gif");
      const created = await client.apis.media.createMedia({ file: new Blob([new Uint8Array(bytes)]), name: "swagger gif" });
      expect(created.status).toBe(200);
      const id = created.body.id;
      const media = await client.apis.media.getMedia({ id, fields: "id,name,mediaType" });
      expect(media.body).toEqual({ id, name: "swagger gif", mediaType: "image/gif" });
      const data = await client.apis.media.getMediaData({ id, extension: "gif" });
      expect(data.status).toBe(200);
      expect(Buffer.from(await data.data.arrayBuffer()).equals(bytes)).toBe(true);
    });

    it("calls the find operations without paging arguments, which take their defaults", async () => {
      const media = await (await connect(apiUsername, apiPassword)).apis.media.findMedia({ filter: "swagger gif", fields: "items(name),limit,offset,totalCount" });
      expect(media.body).toEqual({ items: [{ name: "swagger gif" }], limit: 100, offset: 0, totalCount: 1 });
      const credentials = await (await connect(account.email, account.password)).apis.me.findApiCredentials({ fields: "items(name),limit,offset,totalCount" });
      expect(credentials.body).toEqual({ items: [{ name: "test" }, { name: "swagger" }], limit: 100, offset: 0, totalCount: 2 });
    });

    it("surfaces a 403 ErrorMessage when API credentials call an account-login-only operation", async () => {
      const client = await connect(apiUsername, apiPassword);
      await expect(client.apis.me.findApiCredentials()).rejects.toMatchObject({ status: 403, response: { body: { httpStatusCode: 403 } } });
    });
  });

  describe("swagger-client 2.x, as CallFire's JS SDK uses it", () => {
    const connect = async (username: string, password: string) => {
      const client = new SwaggerClient2({
        url: specUrl(),
        authorizations: { basicAuth: new SwaggerClient2.PasswordAuthorization(username, password) },
        usePromise: true,
      });
      return client;
    };

    it("calls getAccount as client.me.getAccount()", async () => {
      const client = await connect(apiUsername, apiPassword);
      const response = await client.me.getAccount();
      expect(response.status).toBe(200);
      expect(response.obj).toMatchObject({ id: account.id, email: account.email, permissions: ["ACCOUNT_HOLDER", "API"] });
    });

    it("reads media metadata and downloads media, though it sends Accept: image/jpeg", async () => {
      const bytes = fixture("image.bmp");
      const form = new FormData();
      form.append("file", new Blob([new Uint8Array(bytes)]), "image.bmp");
      const uploaded = await fetch(`${app.baseUrl}/v2/media`, { method: "POST", headers: { authorization: basic(apiUsername, apiPassword) }, body: form });
      const { id } = await uploaded.json();
      const client = await connect(apiUsername, apiPassword);
      const media = await client.media.getMedia({ id });
      expect(media.obj).toMatchObject({ id, name: "image.bmp", mediaType: "image/bmp" });
      const data = await client.media.getMediaData({ id, extension: "bmp" });
      expect(data.status).toBe(200);
    });

    it("calls the find operations as CallFire's samples do, without paging arguments", async () => {
      const media = await (await connect(apiUsername, apiPassword)).media.findMedia({ filter: "image.bmp", fields: "items(name),limit,offset,totalCount" });
      expect(media.obj).toEqual({ items: [{ name: "image.bmp" }], limit: 100, offset: 0, totalCount: 1 });
      const credentials = await (await connect(account.email, account.password)).me.findApiCredentials({ name: "swagger", fields: "items(name),limit,offset,totalCount" });
      expect(credentials.obj).toEqual({ items: [{ name: "swagger" }], limit: 100, offset: 0, totalCount: 1 });
    });

    it("creates, fetches and deletes a credential", async () => {
      const client = await connect(account.email, account.password);
      const created = await client.me.createApiCredential({ body: { name: "from-swagger-2" } });
      expect(created.obj).toMatchObject({ name: "from-swagger-2", enabled: true });
      const one = await client.me.getApiCredential({ id: created.obj.id, fields: "id,name,enabled" });
      expect(one.obj).toEqual({ id: created.obj.id, name: "from-swagger-2", enabled: true });
      const deleted = await client.me.deleteApiCredential({ id: created.obj.id });
      expect(deleted.status).toBe(204);
      await expect(client.me.getApiCredential({ id: created.obj.id })).rejects.toMatchObject({ status: 404 });
    });
  });
});
