import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import { errorMessage } from "./error-handler.js";

// Answers Node's HTTP server writes itself, before Fastify sees a request: a request its parser
// refuses (a bad header line, a 100 KB header, a bad method or version, broken chunked encoding,
// Content-Length with Transfer-Encoding, …), an Expect it does not know, an HTTP/1.1 request with
// no Host. Node's and Fastify's own answers to these are not CallFire's ErrorMessage; these are.

type ParserError = NodeJS.ErrnoException & { reason?: string };

/** Status and message for an error of Node's HTTP parser (llhttp's codes) or its timeouts. */
function describe(error: ParserError): [number, string] {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return [431, "the request headers are larger than the 16 KiB limit"];
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return [413, "the chunk extensions are larger than the limit"];
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [408, "the request did not arrive in time"];
    case "HPE_PAUSED_H2_UPGRADE":
      return [400, "HTTP/2 is not served here: use HTTP/1.1"];
    default:
      // llhttp's reason says what it found: "Invalid header value char", "Duplicate Content-Length".
      return [400, `malformed HTTP request: ${(error.reason ?? error.message).replace(/^Parse Error: /, "")}`];
  }
}

const reasons: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 413: "Payload Too Large", 417: "Expectation Failed", 431: "Request Header Fields Too Large" };

function head(status: number, body: string): string {
  return (
    `HTTP/1.1 ${status} ${reasons[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n`
  );
}

/** Fastify's `clientErrorHandler`: the socket can take no other request after a parse error. */
export function answerClientError(this: FastifyInstance, error: ParserError, socket: Socket): void {
  // A reset connection has no one to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, message] = describe(error);
  // Not the error itself: its rawPacket holds the request line, which may carry a public media key.
  this.log.debug({ code: error.code, reason: error.reason, status }, "refused a request the HTTP parser could not read");
  // A response already under way on this connection (a keep-alive request before this one) must
  // not be interleaved with ours.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(errorMessage(status, message));
  socket.end(head(status, body) + body);
  // What the client is still sending (the rest of a 100 KB header) is read and dropped for a
  // moment, so that it does not meet a reset that would discard the answer (see unread-body.ts).
  socket.on("data", () => {}).resume();
  setTimeout(() => socket.destroy(), lingerMs).unref();
}

const lingerMs = 2_000;

/** Node's `checkExpectation`: an Expect other than 100-continue, which Node would answer with an empty 417. */
export function refuseExpectation(request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify(errorMessage(417, `Expect: ${request.headers.expect} is not supported: send the body without it, or Expect: 100-continue`));
  response.writeHead(417, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(body), Connection: "close" });
  response.end(body);
}

/**
 * An HTTP/1.1 request without Host (RFC 9112 §3.2: a 400), answered here rather than by Node,
 * whose own answer has no body. Returns whether it answered.
 */
export function refuseWithoutHost(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.headers.host !== undefined || request.httpVersion !== "1.1") return false;
  const body = JSON.stringify(errorMessage(400, "the Host header is required"));
  response.writeHead(400, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(body), Connection: "close" });
  response.end(body);
  return true;
}
