import { parse, serialize } from "cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Forbidden, Unauthorized } from "../errors.js";
import type { Principal } from "../services/authenticator.js";
import { isCsrfTokenOf, type ConsoleSessionService } from "../services/console-sessions.js";

// The web console's session on the wire: an HttpOnly cookie that scripts cannot read and other
// sites cannot send (SameSite=Strict), and a CSRF token header that every change carries as well.

const cookieName = "switchboard_session";
const csrfHeader = "x-csrf-token";

/**
 * The challenge of a 401 to the console: a Basic one makes the browser open its own login
 * dialog over the page, even for a fetch.
 */
export const consoleChallenge = 'Session realm="switchboard console"';

const readOnlyMethods = new Set(["GET", "HEAD"]);

export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  return header === undefined ? undefined : parse(header)[cookieName];
}

/** A request from the console: its cookie, or the CSRF header the console sends on every request. */
export function isConsoleRequest(request: FastifyRequest): boolean {
  return request.headers[csrfHeader] !== undefined || sessionTokenOf(request) !== undefined;
}

/**
 * The account of a console request's session; a request that changes anything must also carry
 * the session's CSRF token. Used only for requests without an Authorization header.
 */
export async function consoleSessionPrincipal(request: FastifyRequest, sessions: ConsoleSessionService): Promise<Principal> {
  const token = sessionTokenOf(request);
  const session = token === undefined ? undefined : await sessions.find(token);
  if (!session) throw new Unauthorized("no console session, or it has ended: sign in again", consoleChallenge);
  if (!readOnlyMethods.has(request.method)) requireCsrfToken(request, token!);
  return { kind: "account", accountId: session.account.id, account: session.account };
}

export function requireCsrfToken(request: FastifyRequest, token: string): void {
  const presented = request.headers[csrfHeader];
  if (typeof presented !== "string" || !isCsrfTokenOf(token, presented)) {
    throw new Forbidden("missing or wrong X-CSRF-Token header: a change made with a console session must carry the session's CSRF token");
  }
}

/** Secure whenever the request came over HTTPS (as the request says, behind a trusted proxy too). */
export function setSessionCookie(reply: FastifyReply, request: FastifyRequest, token: string, maxAgeMs: number): void {
  reply.header("Set-Cookie", serialize(cookieName, token, { ...cookieAttributes(request), maxAge: Math.floor(maxAgeMs / 1000) }));
}

export function clearSessionCookie(reply: FastifyReply, request: FastifyRequest): void {
  reply.header("Set-Cookie", serialize(cookieName, "", { ...cookieAttributes(request), maxAge: 0 }));
}

function cookieAttributes(request: FastifyRequest) {
  return { httpOnly: true, sameSite: "strict", secure: request.protocol === "https", path: "/" } as const;
}
