import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestAccount, startTestApp, type TestAccount, type TestApp } from "./support/app.js";

// Requests Node's HTTP server refuses before Fastify sees them, sent byte for byte on raw
// sockets: every answer is still CallFire's ErrorMessage.

/** Writes `request` on a fresh connection, then reads until the server closes it (or 3 s pass). */
async function exchange(app: TestApp, request: string | Buffer): Promise<{ statusLine: string; headers: Record<string, string>; body: string }> {
  const { hostname, port } = new URL(app.baseUrl);
  const socket = net.connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {});
  const closed = new Promise((resolve) => socket.once("close", resolve));
  socket.write(request);
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 3000))]);
  socket.destroy();
  const text = Buffer.concat(chunks).toString("latin1");
  const split = text.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = text.slice(0, split).split("\r\n");
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
  return { statusLine, headers, body: text.slice(split + 4) };
}

describe("the HTTP edge", () => {
  let app: TestApp;
  let alice: TestAccount;
  beforeAll(async () => {
    app = await startTestApp("sqlite");
    alice = await createTestAccount(app);
  });
  afterAll(() => app.close());

  const get = (extra: string) => `GET /v2/me/account HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
  const post = (extra: string, body: string) => `POST /v2/me/api/credentials HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${extra}\r\n${body}`;

  const cases: Array<[string, () => string, number, string]> = [
    ["a header line without a colon", () => get("Bad Header\r\n"), 400, "malformed HTTP request: Invalid header token"],
    ["a space before a header's colon", () => get("Host2 : x\r\n"), 400, "malformed HTTP request: Invalid header token"],
    ["a control character in a header value", () => get("X-Thing: a\x01b\r\n"), 400, "malformed HTTP request: Invalid header value char"],
    ["NUL in a header value", () => get("X-Thing: a\x00b\r\n"), 400, "malformed HTTP request: Invalid header value char"],
    ["a folded header line", () => get("X-Thing: a\r\n b\r\n"), 400, "malformed HTTP request: Unexpected whitespace after header value"],
    ["a 100 KB header", () => get(`X-Big: ${"a".repeat(100 * 1024)}\r\n`), 431, "the request headers are larger than the 16 KiB limit"],
    ["an unknown method", () => "BREW /v2/me/account HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed HTTP request: Invalid method encountered"],
    ["a lower-case method", () => "get /v2/me/account HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed HTTP request: Invalid method encountered"],
    ["an HTTP/2 preface", () => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "HTTP/2 is not served here: use HTTP/1.1"],
    ["an unknown HTTP version", () => "GET /v2/me/account HTTP/1.7\r\nHost: x\r\n\r\n", 400, "malformed HTTP request: Invalid HTTP version"],
    ["a version that is not a number", () => "GET /v2/me/account HTTP/x.y\r\nHost: x\r\n\r\n", 400, "malformed HTTP request: Invalid major version"],
    ["a control character in the URL", () => "GET /v2/me/\x01account HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed HTTP request: Invalid char in url path"],
    ["a bare LF after the request line", () => "GET /v2/me/account HTTP/1.1\nHost: x\n\n", 400, "malformed HTTP request: Expected CRLF after version"],
    ["a chunk size that is not hex", () => post("Transfer-Encoding: chunked\r\n", "ZZ\r\n{}\r\n0\r\n\r\n"), 400, "malformed HTTP request: Invalid character in chunk size"],
    ["a chunk size that overflows", () => post("Transfer-Encoding: chunked\r\n", "FFFFFFFFFFFFFFFFFF\r\n"), 400, "malformed HTTP request: Chunk size overflow"],
    ["chunk data without its CRLF", () => post("Transfer-Encoding: chunked\r\n", "2\r\n{}XX0\r\n\r\n"), 400, "malformed HTTP request: Expected LF after chunk data"],
    ["chunk extensions over the limit", () => post("Transfer-Encoding: chunked\r\n", `2;${"a".repeat(20 * 1024)}\r\n{}\r\n0\r\n\r\n`), 413, "the chunk extensions are larger than the limit"],
    ["Content-Length with Transfer-Encoding", () => post("Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", "2\r\n{}\r\n0\r\n\r\n"), 400, "malformed HTTP request: Transfer-Encoding can't be present with Content-Length"],
    ["two different Content-Lengths", () => post("Content-Length: 2\r\nContent-Length: 3\r\n", "{} "), 400, "malformed HTTP request: Duplicate Content-Length"],
    ["a Content-Length that is not a number", () => post("Content-Length: two\r\n", "{}"), 400, "malformed HTTP request: Invalid character in Content-Length"],
    ["a Transfer-Encoding that does not end in chunked", () => post("Transfer-Encoding: gzip\r\n", "{}"), 400, "malformed HTTP request: Request has invalid `Transfer-Encoding`"],
    ["an Expect other than 100-continue", () => get("Expect: 100-foo\r\n"), 417, "Expect: 100-foo is not supported: send the body without it, or Expect: 100-continue"],
    ["an HTTP/1.1 request without Host", () => "GET /v2/me/account HTTP/1.1\r\n\r\n", 400, "the Host header is required"],
  ];

  it.each(cases)("answers %s with an ErrorMessage", async (_label, request, status, message) => {
    const answer = await exchange(app, request());
    expect(answer.statusLine).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(answer.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(answer.headers.connection).toBe("close");
    expect(JSON.parse(answer.body)).toEqual({ httpStatusCode: status, internalCode: 0, message });
    expect(Number(answer.headers["content-length"])).toBe(Buffer.byteLength(answer.body));
  });

  it("still serves a well-formed request on a raw socket, and HTTP/1.0 without Host", async () => {
    const ok = await exchange(app, `GET /v2/me/account?fields=id HTTP/1.1\r\nHost: x\r\nAuthorization: ${alice.api}\r\nConnection: close\r\n\r\n`);
    expect(ok.statusLine).toBe("HTTP/1.1 200 OK");
    expect(JSON.parse(ok.body)).toEqual({ id: alice.id });
    const old = await exchange(app, `GET /v2/me/account?fields=id HTTP/1.0\r\nAuthorization: ${alice.api}\r\n\r\n`);
    expect(old.statusLine).toBe("HTTP/1.1 200 OK");
  });

  it("takes Expect: 100-continue", async () => {
    const answer = await exchange(app, post(`Authorization: ${alice.login}\r\nContent-Length: 13\r\nExpect: 100-continue\r\nConnection: close\r\n`, '{"name":"ok"}'));
    expect(answer.statusLine).toBe("HTTP/1.1 100 Continue");
    expect(answer.body).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });
});
