import type { FastifyRequest } from "fastify";

// What each request contributes to the log. The public media key is the only secret that travels
// in a URL (the key is the credential of /v2/media/public/{key}.{ext}), so it is masked here;
// the Authorization header is never serialized at all.

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
