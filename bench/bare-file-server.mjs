// The Node ceiling for bench/download.sh: a bare node:http server that sends one file with
// fs.createReadStream (default 64 KiB reads) piped to the response — no framework, no auth,
// no database. It shows what Node's read-into-a-Buffer-then-write path costs on its own.
//
//   node bench/bare-file-server.mjs <port> <file>
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import http from "node:http";
import { pipeline } from "node:stream/promises";

const [port, file] = process.argv.slice(2);
const { size } = await stat(file);
http
  .createServer((request, response) => {
    response.writeHead(200, { "Content-Type": "audio/wav", "Content-Length": size });
    if (request.method === "HEAD") return response.end();
    pipeline(createReadStream(file), response).catch(() => {});
  })
  .listen(Number(port), "127.0.0.1");
