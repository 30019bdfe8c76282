// The ceiling for bench/auth.sh: a bare node:http server answering GET /v2/me/account with the
// same JSON, after the same kind of Basic check against a constant. No framework, no database.
import http from "node:http";

const [port, username, password, body] = process.argv.slice(2);
const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;

http
  .createServer((request, response) => {
    if (request.url !== "/v2/me/account" || request.headers.authorization !== expected) {
      response.writeHead(401, { "content-type": "application/json; charset=utf-8" });
      return response.end('{"httpStatusCode":401,"internalCode":0,"message":"invalid or missing credentials"}');
    }
    response.writeHead(200, { "content-type": "application/json; charset=utf-8", "x-content-type-options": "nosniff" });
    response.end(body);
  })
  .listen(Number(port), "127.0.0.1");
