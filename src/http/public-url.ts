import type { FastifyRequest } from "fastify";

// Where clients reach this server: the configured public URL (SWITCHBOARD_PUBLIC_URL), else how
// this request reached us. request.protocol and request.host take X-Forwarded-Proto and -Host
// only from the peers SWITCHBOARD_TRUST_PROXY names (Fastify's trustProxy).

/** Links we hand out (publicUrl, mp3Url): the base URL that paths such as /v2/media/… follow. */
export function publicBaseUrl(request: FastifyRequest, configured: string | undefined): string {
  return configured ?? `${request.protocol}://${request.host}`;
}

/** The same place as Swagger 2.0 says it: scheme, host (with any port) and the path before /v2. */
export function publicLocation(request: FastifyRequest, configured: string | undefined): { scheme: string; host: string; path: string } {
  if (configured === undefined) return { scheme: request.protocol, host: request.host, path: "" };
  const url = new URL(configured);
  return { scheme: url.protocol.slice(0, -1), host: url.host, path: url.pathname.replace(/\/+$/, "") };
}
