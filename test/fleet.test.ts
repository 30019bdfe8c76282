import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createS3Client } from "../src/blobs/s3-blob-store.js";
import { basic, createEmptyPostgresDatabase, postgresUrl } from "./support/app.js";
import { runCli } from "./support/cli.js";
import { fixture } from "./support/media.js";
import { startS3rver, type RunningS3rver } from "./support/s3rver.js";
import { startServed, type ServedProcess } from "./support/served.js";

/**
 * Three `switchboard serve` processes started at once on one empty PostgreSQL database and one S3
 * bucket (s3rver), each running the delivery worker against one webhook receiver, as a fleet
 * behind a balancer would.
 */

const leaseSeconds = 10;
const webhookTimeoutMs = 8_000;
const sendsPerHour = 3;
const cacheTtlMs = 10_000;

interface Received {
  deliveryId: string;
  json: any;
  /** The pid of the node that sent it (found from the connection), if it could be told. */
  pid?: number;
  answered: number | "hung";
}

/** The platform's webhook: answers 200, or leaves the next request hanging when asked to. */
async function startReceiver(pids: () => number[]) {
  const received: Received[] = [];
  const nodeOfConnection = connectionOwners();
  let hangNext = false;
  let onHang: ((entry: Received) => void) | undefined;
  const server = http.createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      const entry: Received = {
        deliveryId: String(request.headers["x-switchboard-call-id"]),
        json: JSON.parse(body),
        pid: nodeOfConnection(request.socket.remotePort!, pids(), hangNext),
        answered: 200,
      };
      received.push(entry);
      if (hangNext) {
        hangNext = false;
        entry.answered = "hung";
        onHang?.(entry);
        return;
      }
      response.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/calls`,
    received,
    /** Resolves with the next request once it arrived and was left hanging. */
    hangNextRequest(): Promise<Received> {
      hangNext = true;
      return new Promise((resolve) => (onHang = resolve));
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Which of `pids` holds the loopback TCP connection whose local port is `port` (Linux /proc). One
 * scan maps every connection of the nodes; a port seen for the first time scans again.
 */
function connectionOwners() {
  let owners = new Map<number, number>();
  const scan = (pids: number[]) => {
    const portOfSocket = new Map<string, number>();
    for (const line of fs.readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9) portOfSocket.set(`socket:[${fields[9]}]`, parseInt(fields[1]!.split(":")[1]!, 16));
    }
    owners = new Map();
    for (const pid of pids) {
      let fds: string[];
      try {
        fds = fs.readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        try {
          const port = portOfSocket.get(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (port !== undefined) owners.set(port, pid);
        } catch {
          // closed meanwhile
        }
      }
    }
  };
  /** `fresh`: scan even if the port is known (it may have been another node's, closed since). */
  return (port: number, pids: number[], fresh = false): number | undefined => {
    if (fresh || !owners.has(port)) scan(pids);
    return owners.get(port);
  };
}

async function request(node: ServedProcess, method: string, pathname: string, options: { auth?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (options.auth) headers.authorization = options.auth;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${node.baseUrl}${pathname}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

const milliseconds = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
  return `median ${at(0.5)} ms, max ${sorted.at(-1)!.toFixed(1)} ms over ${values.length}`;
};

if (!postgresUrl) {
  describe.skip("a fleet of 3 nodes [skipped: SWITCHBOARD_TEST_DATABASE_URL is not set; the fleet needs PostgreSQL]", () => {
    it("needs PostgreSQL", () => {});
  });
} else {
  describe("a fleet of 3 nodes on one empty PostgreSQL database and one S3 bucket", { timeout: 120_000 }, () => {
    let database: Awaited<ReturnType<typeof createEmptyPostgresDatabase>>;
    let dataDir: string;
    let s3: RunningS3rver;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let nodes: ServedProcess[] = [];
    let adminToken: string;
    const pids = () => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null).map((n) => n.child.pid!);

    const bearer = () => `Bearer ${adminToken}`;
    const admin = (node: ServedProcess, method: string, pathname: string, body?: unknown) => request(node, method, `/admin/v1${pathname}`, { auth: bearer(), body });

    /** A new account (made on node A) with one API credential (made on node B). */
    async function newAccount() {
      const email = `fleet-${randomBytes(4).toString("hex")}@example.com`;
      const password = "correct horse battery";
      const created = await admin(nodes[0]!, "POST", "/accounts", { email, password });
      expect(created.status).toBe(201);
      const login = basic(email, password);
      const credential = await request(nodes[1]!, "POST", "/v2/me/api/credentials", { auth: login, body: { name: "fleet" } });
      expect(credential.status).toBe(200);
      return { id: created.json.id as number, email, password, login, api: basic(credential.json.username, credential.json.password) };
    }

    beforeAll(async () => {
      database = await createEmptyPostgresDatabase();
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-fleet-"));
      s3 = await startS3rver();
      const s3Client = createS3Client({ endpoint: s3.endpoint, region: "us-east-1", accessKeyId: "S3RVER", secretAccessKey: "S3RVER", forcePathStyle: true });
      await s3Client.send(new CreateBucketCommand({ Bucket: "fleet" }));
      s3Client.destroy();
      receiver = await startReceiver(pids);
      const started = await Promise.allSettled(
        [0, 1, 2].map((i) =>
          startServed([], {
            SWITCHBOARD_LOG_LEVEL: "warn",
            SWITCHBOARD_DATABASE_URL: database.url,
            SWITCHBOARD_DATA_DIR: path.join(dataDir, `node-${i}`),
            SWITCHBOARD_BLOB_URL: "s3://fleet/switchboard",
            SWITCHBOARD_S3_ENDPOINT: s3.endpoint,
            SWITCHBOARD_S3_REGION: "us-east-1",
            SWITCHBOARD_S3_ACCESS_KEY_ID: "S3RVER",
            SWITCHBOARD_S3_SECRET_ACCESS_KEY: "S3RVER",
            SWITCHBOARD_S3_FORCE_PATH_STYLE: "true",
            SWITCHBOARD_CALLS_WEBHOOK_URL: receiver.url,
            SWITCHBOARD_CALLS_WEBHOOK_SECRET: "fleet-webhook-secret-0123456789",
            SWITCHBOARD_CALLS_WEBHOOK_TIMEOUT_MS: String(webhookTimeoutMs),
            SWITCHBOARD_CALLS_LEASE_SECONDS: String(leaseSeconds),
            SWITCHBOARD_CALLER_ID_SENDS_PER_HOUR: String(sendsPerHour),
          }),
        ),
      );
      nodes = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      for (const result of started) if (result.status === "rejected") throw result.reason;
    }, 120_000);

    afterAll(async () => {
      for (const node of nodes) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill("SIGTERM");
      await Promise.all(nodes.map((node) => node.exited));
      await receiver?.close();
      await s3?.close();
      await database?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it("one node makes and prints the admin token, the others say so, and every node accepts it", async () => {
      const printed = nodes.flatMap((node) => /operator token: ([A-Za-z0-9_-]{43})\n/.exec(node.output())?.[1] ?? []);
      expect(printed).toHaveLength(1);
      adminToken = printed[0]!;
      expect(nodes.filter((node) => node.output().includes("the admin token was created by another node"))).toHaveLength(2);
      expect(nodes.filter((node) => node.demoApi)).toHaveLength(1);
      for (const node of nodes) expect((await admin(node, "GET", "/accounts")).json.totalCount).toBe(1);
    });

    it("an upload on node A downloads byte-identical on B and C, and its MP3 too", async () => {
      const alice = await newAccount();
      const wav = fixture("tone.wav");
      const form = new FormData();
      form.append("file", new Blob([new Uint8Array(wav)]), "tone.wav");
      const uploaded = await fetch(`${nodes[0]!.baseUrl}/v2/media`, { method: "POST", headers: { authorization: alice.api }, body: form });
      expect(uploaded.status).toBe(200);
      const { id } = (await uploaded.json()) as { id: number };
      const bytes = async (node: ServedProcess, pathname: string) => {
        const response = await fetch(`${node.baseUrl}${pathname}`, { headers: { authorization: alice.api } });
        expect(response.status).toBe(200);
        return Buffer.from(await response.arrayBuffer());
      };
      for (const node of nodes.slice(1)) expect((await bytes(node, `/v2/media/${id}/file`)).equals(wav)).toBe(true);
      // B and C ask for the conversion at the same moment; both get the one stored rendition.
      const [onB, onC] = await Promise.all([bytes(nodes[1]!, `/v2/media/${id}.mp3`), bytes(nodes[2]!, `/v2/media/${id}.mp3`)]);
      expect(onB.length).toBeGreaterThan(1000);
      expect(onB.equals(onC)).toBe(true);
      expect((await bytes(nodes[0]!, `/v2/media/${id}.mp3`)).equals(onB)).toBe(true);
    });

    it("the login throttle counts failed logins on every node together", async () => {
      const bob = await newAccount();
      const wrong = basic(bob.email, "not the password");
      for (let attempt = 0; attempt < 10; attempt++) {
        expect((await request(nodes[attempt % 3]!, "GET", "/v2/me/account", { auth: wrong })).status).toBe(401);
      }
      // The 11th attempt on any node is over the limit, and so is the right password where it is
      // not cached (node B verified it when it made the account's credential: a cache hit counts nothing).
      for (const node of nodes) expect((await request(node, "GET", "/v2/me/account", { auth: wrong })).status).toBe(429);
      for (const node of [nodes[0]!, nodes[2]!]) expect((await request(node, "GET", "/v2/me/account", { auth: bob.login })).status).toBe(429);
      // Every node remembers the lockout it saw; the operator's lift on A reaches C at once all the same.
      expect((await admin(nodes[0]!, "DELETE", `/login-lockouts/${encodeURIComponent(bob.email)}`)).status).toBe(204);
      const liftedAt = performance.now();
      while ((await request(nodes[2]!, "GET", "/v2/me/account", { auth: bob.login })).status === 429) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(performance.now() - liftedAt).toBeLessThan(cacheTtlMs * 0.8);
    });

    it("the caller-ID send throttles count sends on every node together", async () => {
      const carol = await newAccount();
      const send = (node: ServedProcess, number: string) => request(node, "POST", `/v2/me/callerids/${number}`, { auth: carol.api });
      expect((await send(nodes[0]!, "12135550101")).status).toBe(200);
      // One send per number per resend interval, whichever node the second goes to.
      expect((await send(nodes[1]!, "12135550101")).status).toBe(429);
      expect((await send(nodes[1]!, "12135550102")).status).toBe(200);
      expect((await send(nodes[2]!, "12135550103")).status).toBe(200);
      // The account's hourly allowance (3) is spent across the three nodes.
      const over = await send(nodes[0]!, "12135550104");
      expect(over.status).toBe(429);
      expect(over.json.message).toContain(`queued ${sendsPerHour} verification calls in the last hour`);
    });

    it(`a credential revoked on node A is refused on B and C as soon as the notice arrives, well within the ${cacheTtlMs / 1000} s cache TTL`, async () => {
      const dave = await newAccount();
      const delays: number[] = [];
      for (let round = 0; round < 5; round++) {
        const credential = await request(nodes[0]!, "POST", "/v2/me/api/credentials", { auth: dave.login, body: { name: `revoked-${round}` } });
        const api = basic(credential.json.username, credential.json.password);
        // Cached on B and C: without a notice they would trust it until the TTL.
        for (const node of nodes.slice(1)) expect((await request(node, "GET", "/v2/me/account", { auth: api })).status).toBe(200);
        const cachedAt = performance.now();
        expect((await request(nodes[0]!, "DELETE", `/v2/me/api/credentials/${credential.json.id}`, { auth: dave.login })).status).toBe(204);
        const revokedAt = performance.now();
        await Promise.all(
          nodes.slice(1).map(async (node) => {
            while ((await request(node, "GET", "/v2/me/account", { auth: api })).status === 200) await new Promise((resolve) => setTimeout(resolve, 5));
            const refusedAt = performance.now();
            // Refused before the cached verification could even have been refreshed (at 80 % of the TTL).
            expect(refusedAt - cachedAt).toBeLessThan(cacheTtlMs * 0.8);
            delays.push(refusedAt - revokedAt);
          }),
        );
      }
      console.log(`fleet: a credential revoked on node A was refused on B and C ${milliseconds(delays)} after the revocation was answered`);

      // A password changed on A: the old one, cached on B, is refused there as soon.
      for (const node of nodes.slice(1)) expect((await request(node, "GET", "/v2/me/account", { auth: dave.login })).status).toBe(200);
      const cachedAt = performance.now();
      expect((await admin(nodes[0]!, "PUT", `/accounts/${dave.id}/password`, { password: "another long password" })).status).toBe(204);
      for (const node of nodes.slice(1)) {
        while ((await request(node, "GET", "/v2/me/account", { auth: dave.login })).status === 200) await new Promise((resolve) => setTimeout(resolve, 5));
        expect(performance.now() - cachedAt).toBeLessThan(cacheTtlMs * 0.8);
      }
    });

    it("`switchboard admin-token rotate` replaces the token on every running node, without a restart", async () => {
      const old = adminToken;
      const rotated = await runCli(["admin-token", "rotate"], { SWITCHBOARD_DATABASE_URL: database.url, SWITCHBOARD_DATA_DIR: dataDir });
      expect(rotated).toMatchObject({ code: 0, stderr: "" });
      adminToken = /new admin token: (\S+)/.exec(rotated.stdout)![1]!;
      const start = performance.now();
      for (const node of nodes) {
        await vi.waitFor(async () => expect((await request(node, "GET", "/admin/v1/accounts", { auth: `Bearer ${old}` })).status).toBe(401), { timeout: 10_000, interval: 20 });
        expect((await admin(node, "GET", "/accounts")).status).toBe(200);
      }
      console.log(`fleet: the rotated admin token was taken by all 3 nodes within ${(performance.now() - start).toFixed(0)} ms of the CLI's exit`);
      // With SWITCHBOARD_ADMIN_TOKEN set, the token is not ours to rotate.
      const refused = await runCli(["admin-token", "rotate"], { SWITCHBOARD_DATABASE_URL: database.url, SWITCHBOARD_ADMIN_TOKEN: "an-operator-chosen-token" });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("comes from SWITCHBOARD_ADMIN_TOKEN");
    });

    it("billing stays exact under concurrent ingests spread over the nodes", async () => {
      const erin = await newAccount();
      expect((await admin(nodes[2]!, "POST", `/accounts/${erin.id}/credits`, { amount: 5000 })).status).toBe(200);
      const durations = Array.from({ length: 60 }, (_, i) => 1 + ((i * 97) % 600));
      const start = Date.now() - 3_600_000;
      const answers = await Promise.all(
        durations.map((durationSeconds, i) =>
          admin(nodes[i % 3]!, "POST", `/accounts/${erin.id}/calls`, {
            fromNumber: "12135551189",
            toNumber: `1310555${String(1000 + i)}`,
            startTime: start + i * 1000,
            durationSeconds,
          }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(durations.map(() => 201));
      const minutes = durations.reduce((sum, d) => sum + Math.ceil(d / 60), 0);
      for (const node of nodes) {
        const billing = await admin(node, "GET", `/accounts/${erin.id}/billing`);
        expect(billing.json.totalRemainingCredits).toBe(5000 - minutes);
      }
    });

    it("every node runs the delivery worker, and each call reaches the webhook exactly once", async () => {
      const frank = await newAccount();
      const verification = await request(nodes[0]!, "POST", "/v2/me/callerids/12135551189", { auth: frank.api });
      expect(verification.status).toBe(200);
      const code = await vi.waitFor(
        () => {
          const found = receiver.received.find((r) => r.json.type === "callerIdVerification" && r.json.accountId === frank.id);
          if (!found) throw new Error("no verification call yet");
          return found.json.code as string;
        },
        { timeout: 20_000, interval: 50 },
      );
      const verified = await request(nodes[1]!, "POST", "/v2/me/callerids/12135551189/verification-code", { auth: frank.api, body: { verificationCode: code } });
      expect(verified.json).toBe(true);
      expect((await admin(nodes[2]!, "POST", `/accounts/${frank.id}/credits`, { amount: 10_000 })).status).toBe(200);

      // More than one claim's batch (100): the workers take their shares of the backlog.
      const perNode = 50;
      const sent = await Promise.all(
        nodes.map((node, n) =>
          request(node, "POST", "/v2/calls", {
            auth: frank.api,
            body: Array.from({ length: perNode }, (_, i) => ({ phoneNumber: `1213555${String(2000 + n * 100 + i)}`, liveMessage: "hello" })),
          }),
        ),
      );
      const callIds = sent.flatMap((s) => s.json.items.map((item: { id: number }) => item.id)).sort((a, b) => a - b);
      expect(callIds).toHaveLength(3 * perNode);
      const callsReceived = () => receiver.received.filter((r) => r.json.type === "call" && r.json.accountId === frank.id);
      await vi.waitFor(() => expect(new Set(callsReceived().map((r) => r.json.callId)).size).toBe(3 * perNode), { timeout: 30_000, interval: 50 });
      // Two more poll intervals of every worker: nothing comes twice.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const twice = callsReceived().filter((r, i, all) => all.findIndex((o) => o.json.callId === r.json.callId) !== i);
      expect(twice.map((r) => ({ callId: r.json.callId, attempt: r.json.attempt, pid: r.pid }))).toEqual([]);
      expect(callsReceived().map((r) => r.json.callId).sort((a, b) => a - b)).toEqual(callIds);
      const byNode = nodes.map((node) => callsReceived().filter((r) => r.pid === node.child.pid).length);
      console.log(`fleet: ${3 * perNode} calls delivered once each; by node: ${byNode.join(", ")}`);
    });

    it("a node killed with SIGKILL mid-delivery loses nothing: its lease expires and another node delivers", async () => {
      const grace = await newAccount();
      const verification = await request(nodes[0]!, "POST", "/v2/me/callerids/12135551189", { auth: grace.api });
      expect(verification.status).toBe(200);
      const code = await vi.waitFor(
        () => {
          const found = receiver.received.find((r) => r.json.type === "callerIdVerification" && r.json.accountId === grace.id);
          if (!found) throw new Error("no verification call yet");
          return found.json.code as string;
        },
        { timeout: 20_000, interval: 50 },
      );
      expect((await request(nodes[0]!, "POST", "/v2/me/callerids/12135551189/verification-code", { auth: grace.api, body: { verificationCode: code } })).json).toBe(true);
      expect((await admin(nodes[0]!, "POST", `/accounts/${grace.id}/credits`, { amount: 10 })).status).toBe(200);

      const hung = receiver.hangNextRequest();
      const sent = await request(nodes[0]!, "POST", "/v2/calls", { auth: grace.api, body: [{ phoneNumber: "12135553000", liveMessage: "hello" }] });
      const callId = sent.json.items[0].id as number;
      const first = await hung;
      const hungAt = performance.now();
      expect(first.json.callId).toBe(callId);
      const victim = nodes.find((node) => node.child.pid === first.pid);
      expect(victim, "the node making the hung request").toBeDefined();
      victim!.child.kill("SIGKILL");
      expect(await victim!.exited).toEqual({ code: null, signal: "SIGKILL" });

      const attempts = () => receiver.received.filter((r) => r.json.type === "call" && r.json.callId === callId);
      await vi.waitFor(() => expect(attempts()).toHaveLength(2), { timeout: (leaseSeconds + 10) * 1000, interval: 50 });
      const redeliveredAfter = performance.now() - hungAt;
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const [, second] = attempts();
      expect(attempts()).toHaveLength(2);
      expect(second!.answered).toBe(200);
      expect(second!.pid).not.toBe(victim!.child.pid);
      expect(second!.json.id).toBe(first.json.id);
      console.log(`fleet: the call hung on the killed node was delivered by another ${(redeliveredAfter / 1000).toFixed(1)} s later (lease ${leaseSeconds} s)`);
      const survivor = nodes.find((node) => node !== victim)!;
      const outbox = await admin(survivor, "GET", `/outbox?accountId=${grace.id}&type=call`);
      expect(outbox.json.items).toHaveLength(1);
      expect(outbox.json.items[0]).toMatchObject({ status: "SENT" });
    });
  });
}
