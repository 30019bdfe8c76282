// Server memory for idle keep-alive connections: opens <count> connections to Switchboard (as
// `npm start` runs it, on a fresh data folder), sends one authenticated GET /v2/me/account on
// each, keeps them all open and idle, and reads the server's VmRSS before and after (after a GC
// has had a chance: a second reading 2 s later is the one reported). The same for a bare
// node:http server answering the same JSON (bench/bare-server.mjs) as the baseline. Both
// processes need <count> + a few file descriptors: the count is capped below `ulimit -n`.
//
//   node bench/idle-connections.mjs [count]
import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const wanted = Number(process.argv[2] ?? 10_000);
const root = path.resolve(import.meta.dirname, "..");
const work = mkdtempSync(path.join(os.tmpdir(), "switchboard-idle-"));

const fdLimit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1] ?? 1024);
const count = Math.min(wanted, fdLimit - 200);
if (count < wanted) console.log(`ulimit -n is ${fdLimit}: opening ${count} connections instead of ${wanted} (raise it with ulimit -n ${wanted + 1000})`);

const rssMiB = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const freePort = () => new Promise((resolve) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); }); });

/** Starts `node args…` and waits until `ready(stdout so far)` resolves true. */
async function start(args, ready) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk) => (out += chunk));
  for (let i = 0; i < 300; i++) {
    if (await ready(out)) return { child, out };
    await sleep(100);
  }
  child.kill();
  throw new Error(`${args.join(" ")} did not start:\n${out}`);
}
const answers = (url, authorization) => fetch(url, { headers: { authorization } }).then((r) => r.ok, () => false);

/** Opens `count` connections, `parallel` at a time, each answering one request; resolves with the sockets. */
async function openIdle(port, authorization) {
  const request = `GET /v2/me/account HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${authorization}\r\n\r\n`;
  const sockets = [];
  const one = () => new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk;
      const end = answer.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(answer)?.[1];
      const complete = length ? answer.length >= end + 4 + Number(length) : answer.endsWith("\r\n0\r\n\r\n"); // or chunked
      if (end !== -1 && complete) {
        if (!answer.startsWith("HTTP/1.1 200")) reject(new Error(answer.slice(0, 200)));
        socket.removeAllListeners("data");
        resolve(socket);
      }
    });
    socket.on("error", reject);
  });
  const parallel = 100;
  for (let i = 0; i < count; i += parallel) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, one))));
  }
  return sockets;
}

async function measure(pid, port, authorization) {
  await sleep(1000);
  const before = rssMiB(pid);
  const sockets = await openIdle(port, authorization);
  await sleep(2000);
  const after = rssMiB(pid);
  for (const socket of sockets) socket.destroy();
  return { before, after, growth: after - before, perConnectionKiB: ((after - before) * 1024) / count };
}

const port = await freePort();
const sb = await start(["dist/src/cli.js", "serve", "--port", String(port), "--data-dir", path.join(work, "data")], (out) => out.includes("curl -u"));
const [user, pass] = /API credential:\s+(\S+) \/ (\S+)/.exec(sb.out).slice(1);
const authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
const url = `http://127.0.0.1:${port}/v2/me/account`;
const body = await (await fetch(url, { headers: { authorization } })).text();
const barePort = await freePort();
const bare = await start(["bench/bare-server.mjs", String(barePort), user, pass, body], () => answers(`http://127.0.0.1:${barePort}/v2/me/account`, authorization));

const load = os.loadavg()[0].toFixed(2);
let switchboard, baseline;
try {
  switchboard = await measure(sb.child.pid, port, authorization);
  baseline = await measure(bare.child.pid, barePort, authorization);
} finally {
  sb.child.kill();
  bare.child.kill();
  await sleep(300);
  rmSync(work, { recursive: true, force: true });
}
const mib = (v) => v.toFixed(1);
for (const [name, r] of [["switchboard", switchboard], ["bare node:http", baseline]]) {
  console.log(`${name}: RSS ${mib(r.before)} MiB idle, ${mib(r.after)} MiB with ${count} idle keep-alive connections: +${mib(r.growth)} MiB, ${r.perConnectionKiB.toFixed(1)} KiB per connection`);
}
const ratio = (switchboard.growth / baseline.growth).toFixed(2);
const row = `| ${count.toLocaleString("en")} idle keep-alive connections: server RSS growth | +${mib(switchboard.growth)} MiB (${switchboard.perConnectionKiB.toFixed(1)} KiB each; ${mib(switchboard.before)} → ${mib(switchboard.after)} MiB) | bare node:http +${mib(baseline.growth)} MiB (${baseline.perConnectionKiB.toFixed(1)} KiB each) | ${ratio}× | — (ulimit -n ${fdLimit}) | — | ${load} |\n`;
process.stdout.write(row);
if (process.env.BENCH_MARKDOWN_OUT) appendFileSync(process.env.BENCH_MARKDOWN_OUT, row);
