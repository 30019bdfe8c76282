import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AudioConverter } from "../src/audio/audio-converter.js";
import { FsBlobStore } from "../src/blobs/index.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { createServices } from "../src/server.js";
import { basic } from "./support/app.js";
import { startWebhookReceiver, webhookSecret } from "./support/caller-ids.js";
import { runCli, startCli } from "./support/cli.js";

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** `switchboard serve` from the sources, once it says where it serves. */
async function startServe(env: Record<string, string>): Promise<{ server: ChildProcessWithoutNullStreams; baseUrl: string; output: () => string }> {
  const server = startCli(["serve", "--port", "0", "--log-level", "warn"], env);
  let output = "";
  server.stdout.on("data", (chunk) => (output += chunk));
  server.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise((_, reject) => server.on("exit", () => reject(new Error(`server exited early:\n${output}`))));
  await Promise.race([until(() => output.includes("  operator token:")), exited]);
  const baseUrl = /serving the CallFire API v2 at (\S+)\/v2 /.exec(output)![1]!;
  return { server, baseUrl, output: () => output };
}

function exitOf(server: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => server.on("exit", (code) => resolve(code)));
}

describe("caller IDs from the command line", () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-callerids-cli-"));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("lists the outbox with filters, as text and as JSON", async () => {
    const database = openDatabase({ dataDir });
    await database.migrate();
    const converter = new AudioConverter();
    const services = createServices({ config: loadConfig({ dataDir }, {}), database, blobs: new FsBlobStore(path.join(dataDir, "blobs")), converter });
    const account = await services.accounts.create({ email: "ops@example.com", password: "operator-pass" });
    await services.callerIds.sendCode(account.id, "2135551189");
    await services.callerIds.sendCode(account.id, "+442079460958");
    await converter.close();
    await database.close();

    const listed = await runCli(["outbox", "list", "--json", "--data-dir", dataDir]);
    expect(listed.code).toBe(0);
    const page = JSON.parse(listed.stdout);
    expect(page).toMatchObject({ limit: 100, offset: 0, totalCount: 2 });
    expect(page.items.map((c: { to: string; status: string }) => [c.to, c.status])).toEqual([
      ["442079460958", "PENDING"],
      ["12135551189", "PENDING"],
    ]);

    const one = await runCli(["outbox", "list", "--to", "+12135551189", "--status", "PENDING", "--account-id", String(account.id)], {
      SWITCHBOARD_DATA_DIR: dataDir,
    });
    const call = page.items[1];
    expect(one).toMatchObject({
      code: 0,
      stdout: `1 call(s)\n${call.id}\t${account.id}\t12135551189\tPENDING\t${call.code}\t0 attempt(s)\t${new Date(call.created).toISOString()}\n`,
    });

    const none = await runCli(["outbox", "list", "--status", "SENT"], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(none).toMatchObject({ code: 0, stdout: "0 call(s)\n" });
    const notANumber = await runCli(["outbox", "list", "--to", "abc"], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(notANumber).toMatchObject({ code: 0, stdout: "0 call(s)\n" });
    const badStatus = await runCli(["outbox", "list", "--status", "LOST"], { SWITCHBOARD_DATA_DIR: dataDir });
    expect(badStatus.code).not.toBe(0);
    expect(badStatus.stderr).toContain("Allowed choices are PENDING, SENT, FAILED");
  });

  it.each([
    [["--calls-webhook-url", "http://127.0.0.1:9/calls"], "SWITCHBOARD_CALLS_WEBHOOK_SECRET (--calls-webhook-secret): is required with SWITCHBOARD_CALLS_WEBHOOK_URL, to sign its requests"],
    [["--calls-webhook-url", "ftp://example.com", "--calls-webhook-secret", webhookSecret], 'SWITCHBOARD_CALLS_WEBHOOK_URL (--calls-webhook-url): "ftp://example.com" must be an http:// or https:// URL'],
    [["--calls-webhook-url", "http://127.0.0.1:9/calls", "--calls-webhook-secret", "short"], "SWITCHBOARD_CALLS_WEBHOOK_SECRET (--calls-webhook-secret): must be at least 16 characters"],
    [["--calls-webhook-secret", webhookSecret], "SWITCHBOARD_CALLS_WEBHOOK_SECRET (--calls-webhook-secret): has no use without SWITCHBOARD_CALLS_WEBHOOK_URL"],
    [["--caller-id-code-length", "3"], 'SWITCHBOARD_CALLER_ID_CODE_LENGTH (--caller-id-code-length): "3" is not a whole number from 4 to 10'],
    [["--calls-max-attempts", "0"], 'SWITCHBOARD_CALLS_MAX_ATTEMPTS (--calls-max-attempts): "0" is not a whole number from 1 to 100'],
  ])("refuses to serve with %j and says why", async (flags, message) => {
    const result = await runCli(["serve", "--data-dir", dataDir, ...flags]);
    expect(result).toMatchObject({ code: 2, stderr: `switchboard: ${message}\n` });
  });

  it("places a call queued before the server was killed once the server is back, exactly once", async () => {
    // A port nothing listens on while the first server runs: the receiver is down.
    const gone = await startWebhookReceiver();
    await gone.close();
    const env = { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_CALLS_WEBHOOK_URL: gone.url, SWITCHBOARD_CALLS_WEBHOOK_SECRET: webhookSecret };

    const first = await startServe(env);
    expect(first.output()).toContain(`calls, texts and verification calls: POSTed to the webhook at 127.0.0.1:${gone.port}`);
    const [, username, password] = /API credential: +(\S+) \/ (\S+)\n/.exec(first.output())!;
    const sent = await fetch(`${first.baseUrl}/v2/me/callerids/12135551189`, { method: "POST", headers: { authorization: basic(username!, password!) } });
    expect(sent.status).toBe(200);

    const token = fs.readFileSync(path.join(dataDir, "admin-token"), "utf8").trim();
    const outbox = async (baseUrl: string) =>
      (await (await fetch(`${baseUrl}/admin/v1/outbox`, { headers: { authorization: `Bearer ${token}` } })).json()).items;
    await until(async () => (await outbox(first.baseUrl))[0].attempts >= 1);
    const [queued] = await outbox(first.baseUrl);
    expect(queued).toMatchObject({ status: "PENDING", to: "12135551189" });
    expect(queued.lastError).toMatch(/ECONNREFUSED/);
    const killed = exitOf(first.server);
    first.server.kill("SIGKILL");
    await killed;

    const receiver = await startWebhookReceiver(gone.port);
    try {
      const second = await startServe(env);
      await until(async () => (await outbox(second.baseUrl))[0].status === "SENT");
      const stopped = exitOf(second.server);
      second.server.kill("SIGTERM");
      expect(await stopped).toBe(0);

      expect(receiver.received.map((r) => [r.json.id, r.json.to, r.json.code])).toEqual([[queued.id, "12135551189", queued.code]]);
    } finally {
      await receiver.close();
    }
  });
});
