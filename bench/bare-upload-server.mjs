// The ceiling for bench/upload.sh: a bare node:http server that streams each POST body to a file
// with a SHA-256 of it, fsyncs it (as Switchboard does before it answers) and answers the digest —
// no framework, no auth, no multipart parsing, no database.
//
//   node bench/bare-upload-server.mjs <port> <dir>
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import http from "node:http";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

const [port, dir] = process.argv.slice(2);
let next = 0;
http
  .createServer(async (request, response) => {
    const hash = createHash("sha256");
    const hashing = new Transform({ transform(chunk, _encoding, done) { hash.update(chunk); done(null, chunk); } });
    try {
      await pipeline(request, hashing, createWriteStream(path.join(dir, `upload-${next++}`), { flush: true }));
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ sha256: hash.digest("hex") }));
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  })
  .listen(Number(port), "127.0.0.1");
