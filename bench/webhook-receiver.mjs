// The operator's platform for bench/calls.ts: a bare node:http server that reads each delivery and
// answers 204, counting what it got (GET /count). Its own process, so it takes no time from the
// server being measured.
import http from "node:http";

let received = 0;
const server = http.createServer((request, response) => {
  if (request.method === "GET") return response.end(String(received));
  request.resume();
  request.on("end", () => {
    received++;
    response.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`));
