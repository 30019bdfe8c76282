import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Forbidden, Unauthorized } from "../errors.js";
import {
  clearSessionCookie,
  consoleChallenge,
  requireCsrfToken,
  sessionTokenOf,
  setSessionCookie,
} from "../http/console-session.js";
import { NoContent, errorRef } from "../http/schemas.js";
import type { Authenticator } from "../services/authenticator.js";
import { consoleSessionLifetimeMs, type ConsoleSession, type ConsoleSessionService } from "../services/console-sessions.js";

// Signing the web console in and out. The console then calls /v2 itself with its cookie
// (src/http/basic-auth.ts); nothing here reads or changes an account's data.

const ConsoleSessionView = Type.Object({
  account: Type.Object({
    id: Type.Integer(),
    email: Type.String(),
    name: Type.Optional(Type.String()),
    firstName: Type.Optional(Type.String()),
    lastName: Type.Optional(Type.String()),
  }),
  csrfToken: Type.String({ description: "send it as X-CSRF-Token with every request that changes something" }),
  expiresAt: Type.Integer({ description: "unix milliseconds; sign in again after it" }),
  sandbox: Type.Boolean({ description: "no webhook places verification calls: the console may show their codes" }),
});

const errors = { 400: errorRef, 401: errorRef, 403: errorRef, 429: errorRef, 500: errorRef };

export interface ConsoleSessionRouteOptions {
  authenticator: Authenticator;
  sessions: ConsoleSessionService;
  sandbox: boolean;
}

export const consoleSessionRoutes: FastifyPluginAsyncTypebox<ConsoleSessionRouteOptions> = async (app, { authenticator, sessions, sandbox }) => {
  const view = (session: ConsoleSession) => ({ ...session, sandbox });

  app.post(
    "/session",
    {
      schema: {
        body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }),
        response: { 200: ConsoleSessionView, ...errors },
      },
    },
    async (request, reply) => {
      const { email, password } = request.body;
      // The very check of a Basic login on /v2, failed-attempt throttle included.
      const principal = await authenticator
        .authenticate(`console\0${email}\0${password}`, () => ({ username: email, password }))
        .catch((error: unknown) => {
          throw error instanceof Unauthorized ? new Unauthorized("wrong email or password", consoleChallenge) : error;
        });
      if (principal.kind !== "account") {
        throw new Forbidden("API credentials cannot sign in to the console: use the account's email and password");
      }
      const { token, session } = await sessions.start(principal.account);
      setSessionCookie(reply, request, token, consoleSessionLifetimeMs);
      return view(session);
    },
  );

  app.get("/session", { schema: { response: { 200: ConsoleSessionView, ...errors } } }, async (request) => {
    const token = sessionTokenOf(request);
    const session = token === undefined ? undefined : await sessions.find(token);
    if (!session) throw new Unauthorized("not signed in to the console", consoleChallenge);
    return view(session);
  });

  app.delete("/session", { schema: { response: { 204: NoContent, ...errors } } }, async (request, reply) => {
    const token = sessionTokenOf(request);
    // A live session is ended only with its CSRF token, so another site cannot sign anyone out.
    if (token !== undefined && (await sessions.find(token))) {
      requireCsrfToken(request, token);
      await sessions.end(token);
    }
    clearSessionCookie(reply, request);
    return reply.code(204).send();
  });
};
