import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { basic, createEmptyPostgresDatabase, postgresUrl } from "./support/app.js";
import { startServed, type ServedProcess } from "./support/served.js";

/**
 * Two nodes behind a loopback balancer, restarted one after the other with SIGTERM under a steady
 * load: not one request may fail. The balancer is what a simple real one does: it polls /readyz,
 * sends requests only to nodes that answered 200, keeps its connections to them alive, and never
 * retries a request (a failed one is counted, whatever it was).
 */

const healthCheckMs = 150;

interface Backend {
  url: URL;
  ready: boolean;
}

function startBalancer() {
  const backends: Backend[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  let next = 0;
  const server = http.createServer((request, response) => {
    const ready = backends.filter((b) => b.ready);
    if (ready.length === 0) {
      response.writeHead(503).end("no node is ready");
      return;
    }
    const backend = ready[next++ % ready.length]!;
    const upstream = http.request(
      { host: backend.url.hostname, port: backend.url.port, method: request.method, path: request.url, headers: request.headers, agent },
      (answer) => {
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on("error", (error) => {
      if (!response.headersSent) response.writeHead(502).end(`balancer: ${error.message}`);
      else response.destroy();
    });
    request.pipe(upstream);
  });
  const timer = setInterval(() => {
    for (const backend of backends) {
      http
        .get(new URL("/readyz", backend.url), { agent: false, timeout: 1_000 }, (answer) => {
          backend.ready = answer.statusCode === 200;
          answer.resume();
        })
        .on("error", () => (backend.ready = false))
        .on("timeout", function (this: http.ClientRequest) {
          this.destroy(new Error("health check timed out"));
        });
    }
  }, healthCheckMs);
  return {
    backends,
    listen: () => new Promise<string>((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    async close() {
      clearInterval(timer);
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

if (!postgresUrl) {
  describe.skip("a rolling restart behind a balancer [skipped: SWITCHBOARD_TEST_DATABASE_URL is not set; two nodes need PostgreSQL]", () => {
    it("needs PostgreSQL", () => {});
  });
} else {
  describe("a rolling restart of two nodes behind a balancer", { timeout: 180_000 }, () => {
    let database: Awaited<ReturnType<typeof createEmptyPostgresDatabase>>;
    let dataDir: string;
    let balancer: ReturnType<typeof startBalancer>;
    let nodes: ServedProcess[] = [];
    const adminToken = randomBytes(24).toString("hex");
    const start = (i: number) =>
      startServed([], {
        SWITCHBOARD_LOG_LEVEL: "warn",
        SWITCHBOARD_DATABASE_URL: database.url,
        SWITCHBOARD_DATA_DIR: path.join(dataDir, `node-${i}`),
        SWITCHBOARD_ADMIN_TOKEN: adminToken,
        SWITCHBOARD_SHUTDOWN_DELAY_SECONDS: "1",
        SWITCHBOARD_SHUTDOWN_GRACE_SECONDS: "10",
      });

    beforeAll(async () => {
      database = await createEmptyPostgresDatabase();
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-rolling-"));
      balancer = startBalancer();
      nodes = await Promise.all([start(0), start(1)]);
      for (const node of nodes) balancer.backends.push({ url: new URL(node.baseUrl), ready: false });
    }, 120_000);

    afterAll(async () => {
      await balancer?.close();
      for (const node of nodes) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill("SIGTERM");
      await Promise.all(nodes.map((node) => node.exited));
      await database?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it("restarting each node in turn with SIGTERM under a steady load fails no request", async () => {
      const base = await balancer.listen();
      await vi.waitFor(() => expect(balancer.backends.every((b) => b.ready)).toBe(true), { timeout: 10_000, interval: 50 });

      const email = `rolling-${randomBytes(4).toString("hex")}@example.com`;
      const created = await fetch(`${base}/admin/v1/accounts`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ email, password: "correct horse battery" }),
      });
      const accountId = ((await created.json()) as { id: number }).id;
      const credential = (await (
        await fetch(`${base}/v2/me/api/credentials`, {
          method: "POST",
          headers: { authorization: basic(email, "correct horse battery"), "content-type": "application/json" },
          body: JSON.stringify({ name: "load" }),
        })
      ).json()) as { username: string; password: string };
      const api = basic(credential.username, credential.password);

      // The load: each client keeps its connection to the balancer alive, as browsers and SDKs do.
      const latencies: number[] = [];
      const failures: string[] = [];
      let ingested = 0;
      let running = true;
      const client = async (c: number) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        for (let i = 0; running; i++) {
          const kind = i % 10;
          const ingest = kind === 9;
          const options = ingest
            ? {
                method: "POST",
                path: `/admin/v1/accounts/${accountId}/calls`,
                headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
                body: JSON.stringify({ fromNumber: "12135551189", toNumber: `1310555${String(1000 + c)}`, startTime: Date.now() - 60_000 + i, durationSeconds: 30 }),
              }
            : { method: "GET", path: kind < 6 ? "/v2/me/account" : "/v2/calls?limit=2", headers: { authorization: api }, body: undefined };
          const began = performance.now();
          const status = await new Promise<number | string>((resolve) => {
            const request = http.request(`${base}${options.path}`, { method: options.method, headers: options.headers, agent }, (answer) => {
              answer.resume();
              answer.on("end", () => resolve(answer.statusCode!));
              answer.on("error", (error) => resolve(error.message));
            });
            request.on("error", (error) => resolve(error.message));
            request.end(options.body);
          });
          latencies.push(performance.now() - began);
          if (status === (ingest ? 201 : 200)) {
            if (ingest) ingested++;
          } else {
            failures.push(`${options.method} ${options.path}: ${status}`);
          }
        }
        agent.destroy();
      };
      const clients = Array.from({ length: 6 }, (_, c) => client(c));

      const began = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const restarts: string[] = [];
      for (let i = 0; i < nodes.length; i++) {
        const restartBegan = performance.now();
        nodes[i]!.child.kill("SIGTERM");
        expect(await nodes[i]!.exited).toEqual({ code: 0, signal: null });
        const stoppedAfter = performance.now() - restartBegan;
        nodes[i] = await start(i);
        // A restarted node comes back on another ephemeral port: the balancer is told, and waits for its /readyz.
        const backend = { url: new URL(nodes[i]!.baseUrl), ready: false };
        balancer.backends[i] = backend;
        await vi.waitFor(() => expect(backend.ready).toBe(true), { timeout: 30_000, interval: 20 });
        restarts.push(`node ${i + 1}: stopped in ${(stoppedAfter / 1000).toFixed(1)} s, back and ready after ${((performance.now() - restartBegan) / 1000).toFixed(1)} s`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      running = false;
      await Promise.all(clients);
      const seconds = (performance.now() - began) / 1000;

      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
      console.log(
        `rolling restart: ${latencies.length} requests (${ingested} ingests) by 6 keep-alive clients in ${seconds.toFixed(1)} s, ${failures.length} failed; ` +
          `latency p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; ${restarts.join("; ")}`,
      );
      expect(failures).toEqual([]);
      expect(latencies.length).toBeGreaterThan(100);

      // Every acknowledged ingest is there.
      const calls = (await (await fetch(`${base}/v2/calls?limit=1`, { headers: { authorization: api } })).json()) as { totalCount: number };
      expect(calls.totalCount).toBe(ingested);
    });
  });
}
