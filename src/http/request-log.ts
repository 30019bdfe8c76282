import { LogController, type FastifyReply, type FastifyRequest } from "fastify";

// What each request contributes to the log: one access line when it completes. The public media
// key is the only secret that travels in a URL (the key is the credential of
// /v2/media/public/{key}.{ext}), so it is masked here; the Authorization header is never
// serialized at all.

/** Percent-decodings undone before looking for the route: `%2570ublic` is `%70ublic` is `public`. */
const maxDecodings = 4;

/**
 * The URL as logged: whatever follows "public" is dropped, in any spelling a client can give it
 * that might still reach (or probe for) a key: percent-encoded letters or slashes (`%70ublic`,
 * `public%2F`, `..%2F<key>`), doubled slashes, any case, a query string, a path no route takes.
 * Redacting a URL that only looks like one costs nothing; logging a key gives away its file.
 */
export function redactedUrl(url: string): string {
  let decoded = url;
  for (let round = 0; round < maxDecodings; round++) {
    const next = decoded.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (next === decoded) break;
    decoded = next;
  }
  const at = decoded.search(/public/i);
  return at === -1 ? url : `${decoded.slice(0, at + "public".length)}/[redacted]`;
}

export const requestLogSerializers = {
  req(request: FastifyRequest) {
    return {
      method: request.method,
      url: redactedUrl(request.url),
      host: request.host,
      remoteAddress: request.ip,
    };
  },
};

/** The access line of a request that has completed, `responseTime` in milliseconds. */
export function logCompleted(request: FastifyRequest, reply: FastifyReply, responseTime: number, error?: Error | null): void {
  if (error) reply.log.error({ req: request, res: reply, err: error, responseTime }, "request errored");
  else reply.log.info({ req: request, res: reply, responseTime }, "request completed");
}

/**
 * One line per request, when it completes: method, redacted URL, client address, status, duration
 * and (from the request's child logger) its id. Fastify's default logs a second line as each
 * request arrives, which doubled the log's share of a small request's cost; that line is kept at
 * debug level, where it costs nothing unless asked for. (Requests Fastify refuses before routing,
 * such as a badly percent-encoded path, are logged by renderFrameworkError.)
 */
export class AccessLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, "incoming request");
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    logCompleted(request, reply, reply.elapsedTime, error);
  }
}
