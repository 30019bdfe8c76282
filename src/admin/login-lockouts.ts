import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { NoContent, PagingQuery, pageOf } from "../http/schemas.js";
import type { LoginThrottle } from "../services/login-throttle.js";
import { adminErrors } from "./schemas.js";

const LoginLockout = Type.Object({
  username: Type.String({ description: "the account email (lower-cased) or API-credential username" }),
  failedAttempts: Type.Integer(),
  lockedUntil: Type.Integer({ description: "unix milliseconds" }),
});

export const adminLoginLockoutRoutes: FastifyPluginAsyncTypebox<{ loginThrottle: LoginThrottle }> = async (app, { loginThrottle }) => {
  app.get(
    "/login-lockouts",
    {
      schema: {
        querystring: Type.Object(PagingQuery),
        response: {
          200: Type.Object({ items: Type.Array(LoginLockout), limit: Type.Integer(), offset: Type.Integer(), totalCount: Type.Integer() }),
          ...adminErrors,
        },
      },
    },
    async (request) => loginThrottle.list(pageOf(request.query)),
  );

  app.delete(
    "/login-lockouts/:username",
    {
      schema: {
        params: Type.Object({ username: Type.String({ minLength: 1, maxLength: 320 }) }),
        response: { 204: NoContent, ...adminErrors },
      },
    },
    async (request, reply) => {
      await loginThrottle.lift(request.params.username);
      return reply.code(204).send(undefined);
    },
  );
};
