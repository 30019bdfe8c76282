import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import { Forbidden, Unauthorized } from "../errors.js";
import type { Authenticator, Principal } from "../services/authenticator.js";
import type { ConsoleSessionService } from "../services/console-sessions.js";
import { consoleSessionPrincipal, isConsoleRequest } from "./console-session.js";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** CallFire: "Only ACCOUNT_HOLDER can invoke this API. For authentication use account credentials". */
    accountLoginOnly?: boolean;
    /** Served without credentials (public media keys): the key is the secret, and any Authorization header is ignored. */
    public?: boolean;
  }
}

// Emails are at most 320 characters; nothing longer can be a username of ours, and nothing
// longer than this is worth hashing as a password.
const maxUsernameLength = 320;
const maxPasswordLength = 1024;

export function parseBasicAuthorization(header: string | undefined): { username: string; password: string } {
  if (!header) throw new Unauthorized("credentials required: use HTTP Basic authentication");
  const match = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) throw new Unauthorized("malformed Authorization header: expected Basic <base64(username:password)>");
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw new Unauthorized("malformed Basic credentials: expected username:password");
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  // A NUL cannot be in any username or password of ours, and PostgreSQL refuses it in text.
  if (username.length > maxUsernameLength || password.length > maxPasswordLength || decoded.includes("\0")) throw new Unauthorized();
  return { username, password };
}

/**
 * Adds Basic authentication (or the web console's session) and the account-login-only rule to
 * every route of `app`. The hook is attached per route, closing over the route's config: Fastify
 * builds a fresh routeOptions object each time a request asks for it, which this hot path need
 * not pay for. It takes Fastify's `done` rather than returning a promise, so that a request whose
 * credentials were verified recently passes without a promise or a microtask.
 */
export function requireBasicAuth(app: FastifyInstance, authenticator: Authenticator, sessions: ConsoleSessionService): void {
  app.decorateRequest("principal", null as never);
  app.addHook("onRoute", (route) => {
    const { public: isPublic = false, accountLoginOnly = false } = route.config ?? {};
    // A client that sends its credentials everywhere (or stale ones) still gets a public file.
    if (isPublic) return;
    const admit = (request: FastifyRequest, principal: Principal, done: HookHandlerDoneFunction) => {
      request.principal = principal;
      if (accountLoginOnly && principal.kind !== "account") {
        return done(new Forbidden("this operation needs the account's own login, not API credentials"));
      }
      done();
    };
    const authenticate = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const header = request.headers.authorization;
      if (header === undefined && isConsoleRequest(request)) {
        // The web console's session is the account's login; only asked for when no
        // Authorization header came, so the API's own path does not move.
        consoleSessionPrincipal(request, sessions).then((principal) => {
          request.principal = principal;
          done();
        }, done);
        return;
      }
      const decode = () => parseBasicAuthorization(header);
      const cached = authenticator.cached(header ?? "", decode);
      if (cached) return admit(request, cached, done);
      authenticator.authenticate(header ?? "", decode).then((principal) => admit(request, principal, done), done);
    };
    route.onRequest = [authenticate, ...[route.onRequest ?? []].flat()];
  });
}
