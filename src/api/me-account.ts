import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { errorResponses } from "../http/schemas.js";

export const Account = Type.Object(
  {
    id: Type.Optional(Type.Integer({ format: "int64" })),
    email: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    firstName: Type.Optional(Type.String()),
    lastName: Type.Optional(Type.String()),
    permissions: Type.Optional(Type.Array(Type.String({ enum: ["API", "ACCOUNT_HOLDER", "AGENT"] }))),
  },
  { $id: "Account", description: "Account details: name, email, permissions" },
);

// Whoever calls, the account holder's permissions are reported (CallFire's integration tests
// expect ACCOUNT_HOLDER even with API credentials).
const accountHolderPermissions = ["ACCOUNT_HOLDER", "API"];

export const meAccountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(Account);

  app.get(
    "/me/account",
    {
      schema: {
        tags: ["me"],
        operationId: "getAccount",
        summary: "Find account details",
        description: "Returns the account's id, email, name and permissions. For authentication use api credentials.",
        response: { 200: Type.Ref(Account), ...errorResponses },
      },
    },
    // The account comes with the verified principal: no second database round trip, and nothing
    // to wait for (a plain return is sent without the promise an async handler costs).
    (request) => {
      const { id, email, name, firstName, lastName } = request.principal.account;
      return { id, email, name, firstName, lastName, permissions: accountHolderPermissions };
    },
  );
};
