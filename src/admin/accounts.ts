import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { IdParam, Name, NoContent, PagingQuery, pageOf } from "../http/schemas.js";
import type { AccountService } from "../services/accounts.js";
import { adminErrors } from "./schemas.js";

const AdminAccount = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  name: Type.Optional(Type.String()),
  firstName: Type.Optional(Type.String()),
  lastName: Type.Optional(Type.String()),
  created: Type.Integer({ description: "unix milliseconds" }),
  disabledAt: Type.Optional(Type.Integer({ description: "unix milliseconds; only while the account is disabled" })),
});

const PersonName = Name({ minLength: 1, maxLength: 255 });
// Free text: a passphrase may hold any character but NUL.
const Password = Type.String({ minLength: 8, maxLength: 1024 });
const byId = Type.Object({ id: IdParam });

export const adminAccountRoutes: FastifyPluginAsyncTypebox<{ accounts: AccountService }> = async (app, { accounts }) => {
  app.post(
    "/accounts",
    {
      schema: {
        body: Type.Object(
          {
            email: Name({ minLength: 3, maxLength: 320 }),
            password: Password,
            name: Type.Optional(PersonName),
            firstName: Type.Optional(PersonName),
            lastName: Type.Optional(PersonName),
          },
          { additionalProperties: false },
        ),
        response: { 201: AdminAccount, ...adminErrors },
      },
    },
    async (request, reply) => reply.code(201).send(await accounts.create(request.body)),
  );

  app.get(
    "/accounts",
    {
      schema: {
        querystring: Type.Object(PagingQuery),
        response: {
          200: Type.Object({ items: Type.Array(AdminAccount), limit: Type.Integer(), offset: Type.Integer(), totalCount: Type.Integer() }),
          ...adminErrors,
        },
      },
    },
    async (request) => accounts.list(pageOf(request.query)),
  );

  app.get(
    "/accounts/:id",
    { schema: { params: byId, response: { 200: AdminAccount, ...adminErrors } } },
    async (request) => accounts.get(request.params.id),
  );

  app.put(
    "/accounts/:id/password",
    {
      schema: {
        params: byId,
        body: Type.Object({ password: Password }, { additionalProperties: false }),
        response: { 204: NoContent, ...adminErrors },
      },
    },
    async (request, reply) => {
      await accounts.setPassword(request.params.id, request.body.password);
      return reply.code(204).send(undefined);
    },
  );

  // Disabling refuses, from the next request on, the account's login, every API credential of it
  // and its console sessions (which end). Both answer the account; repeating one changes nothing.
  for (const [action, disabled] of [["disable", true], ["enable", false]] as const) {
    app.post(
      `/accounts/:id/${action}`,
      { schema: { params: byId, response: { 200: AdminAccount, ...adminErrors } } },
      async (request) => accounts.setDisabled(request.params.id, disabled),
    );
  }

  // Everything of the account goes but its billing ledger (see AccountService.delete).
  app.delete(
    "/accounts/:id",
    { schema: { params: byId, response: { 204: NoContent, ...adminErrors } } },
    async (request, reply) => {
      await accounts.delete(request.params.id);
      return reply.code(204).send(undefined);
    },
  );
};
