import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { IdParam, Name, NoContent, PageOf, PagingQuery, errorResponses, pageOf } from "../http/schemas.js";
import type { ApiCredentialService } from "../services/api-credentials.js";

export const ApiCredential = Type.Object(
  {
    id: Type.Optional(Type.Integer({ format: "int64" })),
    name: Type.Optional(Type.String()),
    username: Type.Optional(Type.String({ readOnly: true })),
    password: Type.Optional(Type.String({ readOnly: true })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { $id: "ApiCredential", description: "An object represents API user in CallFire system" },
);

export const ApiCredentialPage = PageOf(Type.Ref(ApiCredential), "ApiCredentialPage");

const CreateApiCredentialBody = Type.Object(
  { name: Name({ minLength: 1, maxLength: 255, description: "A name for the credential (1-255 characters)" }) },
  { description: "Only the name can be supplied" },
);

const accountLoginOnly = "Only ACCOUNT_HOLDER can invoke this API. For authentication use account credentials.";
const byId = { params: Type.Object({ id: IdParam }) };

export const meApiCredentialRoutes: FastifyPluginAsyncTypebox<{ credentials: ApiCredentialService }> = async (
  app,
  { credentials },
) => {
  app.addSchema(ApiCredential);
  app.addSchema(ApiCredentialPage);
  const config = { accountLoginOnly: true };

  app.get(
    "/me/api/credentials",
    {
      config,
      schema: {
        tags: ["me"],
        operationId: "findApiCredentials",
        summary: "Find API credentials",
        description: `Returns the API credentials of the account, passwords masked. ${accountLoginOnly}`,
        querystring: Type.Object({ name: Type.Optional(Name({ description: "Filter by name" })), ...PagingQuery }),
        response: { 200: Type.Ref(ApiCredentialPage), ...errorResponses },
      },
    },
    async (request) => {
      return credentials.find(request.principal.accountId, { name: request.query.name }, pageOf(request.query));
    },
  );

  app.post(
    "/me/api/credentials",
    {
      config,
      schema: {
        tags: ["me"],
        operationId: "createApiCredential",
        summary: "Create API credentials",
        description: `Creates a username/password pair; the password is shown only in this response. ${accountLoginOnly}`,
        body: CreateApiCredentialBody,
        response: { 200: Type.Ref(ApiCredential), ...errorResponses },
      },
    },
    async (request) => credentials.create(request.principal.accountId, request.body.name),
  );

  app.get(
    "/me/api/credentials/:id",
    {
      config,
      schema: {
        tags: ["me"],
        operationId: "getApiCredential",
        summary: "Get API credential",
        description: `Returns one API credential, password masked. ${accountLoginOnly}`,
        ...byId,
        response: { 200: Type.Ref(ApiCredential), ...errorResponses },
      },
    },
    async (request) => credentials.get(request.principal.accountId, request.params.id),
  );

  app.delete(
    "/me/api/credentials/:id",
    {
      config,
      schema: {
        tags: ["me"],
        operationId: "deleteApiCredential",
        summary: "Delete API credential",
        description: `Deletes an API credential; it stops authenticating at once. ${accountLoginOnly}`,
        ...byId,
        response: { 204: NoContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await credentials.delete(request.principal.accountId, request.params.id);
      return reply.code(204).send(undefined);
    },
  );

  for (const [action, enabled] of [["enable", true], ["disable", false]] as const) {
    app.post(
      `/me/api/credentials/:id/${action}`,
      {
        config,
        schema: {
          tags: ["me"],
          operationId: `${action}ApiCredentials`,
          summary: `${action === "enable" ? "Enable" : "Disable"} API credentials`,
          description: `${enabled ? "Enables" : "Disables"} an API credential; a disabled one gets 401. ${accountLoginOnly}`,
          ...byId,
          response: { 200: NoContent, ...errorResponses },
        },
      },
      async (request, reply) => {
        await credentials.setEnabled(request.principal.accountId, request.params.id, enabled);
        return reply.code(200).send(undefined);
      },
    );
  }
};
