import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../src/db/database.js";
import { retryDelayMs } from "../src/delivery/call-delivery-worker.js";
import { webhookSignature } from "../src/delivery/webhook-transport.js";
import type { OutboxEntry } from "../src/services/call-outbox.js";
import { call, createTestAccount, describeEachDialect, type TestAccount, type TestApp } from "./support/app.js";
import { persistentTestDatabase, startAppOn, startWebhookReceiver, testClock, webhookSecret } from "./support/caller-ids.js";

type Receiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
type SignatureCheck = (secret: string, header: string, rawBody: string, toleranceSeconds?: number) => boolean;

/** The verification snippet exactly as README.md shows it to receivers. */
async function readmeSignatureCheck(): Promise<SignatureCheck> {
  const readme = fs.readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!);
  const snippet = blocks.find((block) => block.includes("verifySwitchboardSignature"))!.replace(/^ {2}/gm, "");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-snippet-"));
  fs.writeFileSync(path.join(dir, "verify.mjs"), snippet);
  try {
    return (await import(pathToFileURL(path.join(dir, "verify.mjs")).href)).verifySwitchboardSignature;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe("retry delays", () => {
  it("double from 2 s up to 5 minutes, each drawn from the upper half of its range", () => {
    expect([1, 2, 3, 4, 8, 9, 20].map((attempt) => retryDelayMs(attempt, () => 0))).toEqual([1_000, 2_000, 4_000, 8_000, 128_000, 150_000, 150_000]);
    expect([1, 2, 3, 4, 8, 9, 20].map((attempt) => retryDelayMs(attempt, () => 1))).toEqual([2_000, 4_000, 8_000, 16_000, 256_000, 300_000, 300_000]);
    expect(retryDelayMs(3, () => 0.5)).toBe(6_000);
  });
});

describeEachDialect("verification call delivery", (dialect) => {
  let store: Awaited<ReturnType<typeof persistentTestDatabase>>;
  let receiver: Receiver;
  let clock: ReturnType<typeof testClock>;
  let app: TestApp;
  let account: TestAccount;
  const running: Array<{ app: TestApp; database: Database }> = [];

  /** A server on the shared database, as another process (or a restarted one) would be. */
  async function startServer(url: string, options: { now?: () => number; maxAttempts?: number; timeoutMs?: number } = {}): Promise<TestApp> {
    const database = await store.open();
    const server = await startAppOn(database, {
      now: options.now ?? clock.now,
      settings: {
        callsWebhookUrl: url,
        callsWebhookSecret: webhookSecret,
        callsWebhookTimeoutMs: String(options.timeoutMs ?? 1000),
        callsMaxAttempts: String(options.maxAttempts ?? 8),
      },
    });
    running.push({ app: server, database });
    return server;
  }

  async function stopServer(server: TestApp): Promise<void> {
    const [stopping] = running.splice(running.findIndex((r) => r.app === server), 1);
    await server.close();
    await stopping!.database.close();
  }

  beforeEach(async () => {
    store = await persistentTestDatabase(dialect);
    receiver = await startWebhookReceiver();
    clock = testClock();
    app = await startServer(receiver.url);
    account = await createTestAccount(app);
  });

  afterEach(async () => {
    for (const { app: server } of [...running]) await stopServer(server);
    await receiver.close();
    await store.drop();
  });

  const send = async (server: TestApp, number: string) => {
    const response = await call(server, "POST", `/v2/me/callerids/${number}`, { auth: account.api });
    expect(response.status).toBe(200);
  };
  const deliver = (server = app) => server.services.callDelivery.deliverDue();
  const callsTo = async (number: string, server = app): Promise<OutboxEntry[]> =>
    (await server.services.outbox.list({ to: number }, { limit: 100, offset: 0 })).items;

  it("POSTs each call as JSON, signed so that the README's snippet verifies it", async () => {
    await send(app, "12135551189");
    expect(await deliver()).toBe(1);

    const [entry] = await callsTo("12135551189");
    expect(entry).toMatchObject({ status: "SENT", attempts: 1, code: expect.stringMatching(/^\d{6}$/) });
    expect(entry!.lastError).toBeUndefined();
    expect(entry!.nextAttemptAt).toBeUndefined();
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["x-switchboard-call-id"]).toBe(entry!.id);
    expect(request!.json).toEqual({
      id: entry!.id,
      type: "callerIdVerification",
      accountId: account.id,
      to: "12135551189",
      code: entry!.code,
      message: entry!.message,
      attempt: 1,
      created: clock.now(),
      expiresAt: clock.now() + 600_000,
    });

    const header = request!.headers["x-switchboard-signature"] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const verifySignature = await readmeSignatureCheck();
    expect(verifySignature(webhookSecret, header, request!.body)).toBe(true);
    expect(verifySignature("another-secret-of-some-length", header, request!.body)).toBe(false);
    expect(verifySignature(webhookSecret, header, request!.body.replace('"attempt":1', '"attempt":2'))).toBe(false);
    const staleTime = Math.floor(Date.now() / 1000) - 301;
    expect(verifySignature(webhookSecret, webhookSignature(webhookSecret, staleTime, request!.body), request!.body)).toBe(false);

    // The code the receiver was given verifies the number.
    const verified = await call(app, "POST", "/v2/me/callerids/12135551189/verification-code", {
      auth: account.api,
      body: { verificationCode: request!.json.code },
    });
    expect(verified.json).toBe(true);
    expect(await deliver()).toBe(0);
    expect(receiver.received).toHaveLength(1);
  });

  it("retries a webhook answering 500 after growing delays, then delivers once", async () => {
    receiver.answer(500, 500);
    await send(app, "12135551189");

    expect(await deliver()).toBe(1);
    let [entry] = await callsTo("12135551189");
    expect(entry).toMatchObject({ status: "PENDING", attempts: 1, lastError: "webhook answered HTTP 500: receiver says no" });
    expect(entry!.nextAttemptAt! - clock.now()).toBeGreaterThanOrEqual(1_000);
    expect(entry!.nextAttemptAt! - clock.now()).toBeLessThanOrEqual(2_000);
    clock.advance(entry!.nextAttemptAt! - clock.now() - 1);
    expect(await deliver()).toBe(0);
    clock.advance(1);

    expect(await deliver()).toBe(1);
    [entry] = await callsTo("12135551189");
    expect(entry).toMatchObject({ status: "PENDING", attempts: 2 });
    expect(entry!.nextAttemptAt! - clock.now()).toBeGreaterThanOrEqual(2_000);
    expect(entry!.nextAttemptAt! - clock.now()).toBeLessThanOrEqual(4_000);
    clock.advance(entry!.nextAttemptAt! - clock.now());

    expect(await deliver()).toBe(1);
    [entry] = await callsTo("12135551189");
    expect(entry).toMatchObject({ status: "SENT", attempts: 3 });
    expect(entry!.lastError).toBeUndefined();
    expect(receiver.received.map((r) => [r.json.id, r.json.attempt])).toEqual([
      [entry!.id, 1],
      [entry!.id, 2],
      [entry!.id, 3],
    ]);
    clock.advance(60_000);
    expect(await deliver()).toBe(0);
    expect(receiver.received).toHaveLength(3);
  });

  it("marks a call FAILED after the configured number of attempts", async () => {
    const limited = await startServer(receiver.url, { maxAttempts: 3 });
    receiver.answer(500, 503, 404);
    await send(limited, "12135551189");
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await deliver(limited)).toBe(1);
      clock.advance(60_000);
    }
    const [entry] = await callsTo("12135551189");
    expect(entry).toMatchObject({ status: "FAILED", attempts: 3, lastError: "webhook answered HTTP 404: receiver says no" });
    expect(entry!.nextAttemptAt).toBeUndefined();
    expect(await deliver(limited)).toBe(0);
    expect(receiver.received).toHaveLength(3);
  });

  it("gives up on a webhook that does not answer within the timeout, and retries", async () => {
    receiver.answer("hang");
    await send(app, "12135551189");
    expect(await deliver()).toBe(1);
    let [entry] = await callsTo("12135551189");
    expect(entry).toMatchObject({ status: "PENDING", attempts: 1, lastError: "webhook did not answer within 1000 ms" });

    clock.advance(2_000);
    expect(await deliver()).toBe(1);
    [entry] = await callsTo("12135551189");
    expect(entry).toMatchObject({ status: "SENT", attempts: 2 });
    expect(receiver.received.map((r) => r.json.id)).toEqual([entry!.id, entry!.id]);
  });

  it("counts a slow 200 within the timeout as delivered", async () => {
    receiver.answer({ status: 200, afterMs: 300 });
    await send(app, "12135551189");
    expect(await deliver()).toBe(1);
    const [entry] = await callsTo("12135551189");
    expect(entry).toMatchObject({ status: "SENT", attempts: 1 });
    expect(receiver.received).toHaveLength(1);
  });

  it("delivers calls queued while the receiver was down after a restart, each exactly once", async () => {
    // A port nothing listens on, until the receiver comes back on it.
    const gone = await startWebhookReceiver();
    await gone.close();
    const before = await startServer(gone.url);
    await send(before, "12135551189");
    expect(await deliver(before)).toBe(1);
    const [failed] = await callsTo("12135551189", before);
    expect(failed).toMatchObject({ status: "PENDING", attempts: 1 });
    expect(failed!.lastError).toMatch(/^webhook request failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    await send(before, "442079460958");
    await stopServer(before);

    const back = await startWebhookReceiver(gone.port);
    try {
      clock.advance(2_000);
      const after = await startServer(back.url);
      expect(await deliver(after)).toBe(2);
      expect(back.received.map((r) => r.json.to).sort()).toEqual(["12135551189", "442079460958"]);
      clock.advance(60_000);
      expect(await deliver(after)).toBe(0);
      expect(back.received).toHaveLength(2);
      expect((await callsTo("12135551189", after))[0]).toMatchObject({ id: failed!.id, status: "SENT", attempts: 2 });
      expect((await callsTo("442079460958", after))[0]).toMatchObject({ status: "SENT", attempts: 1 });
    } finally {
      await back.close();
    }
  });

  it("takes over a call whose worker stalled past its lease, and keeps the newer outcome", async () => {
    receiver.answer("hang");
    await send(app, "12135551189");
    // The stalled worker's timeout must outlast the takeover below, which starts a server and
    // delivers twice: 1 s was too short for that on a loaded machine.
    const slow = await startServer(receiver.url, { timeoutMs: 5_000 });
    const stalled = deliver(slow);
    await until(() => receiver.received.length === 1);

    // The lease is the 5 s timeout plus a minute; another server must wait it out.
    const otherClock = testClock(clock.now() + 65_000 - 1);
    const other = await startServer(receiver.url, { now: otherClock.now });
    expect(await deliver(other)).toBe(0);
    otherClock.advance(1);
    expect(await deliver(other)).toBe(1);
    expect(await stalled).toBe(1);

    const [entry] = await callsTo("12135551189");
    expect(entry).toMatchObject({ status: "SENT", attempts: 2 });
    expect(entry!.lastError).toBeUndefined();
    expect(receiver.received.map((r) => [r.json.id, r.json.attempt])).toEqual([
      [entry!.id, 1],
      [entry!.id, 2],
    ]);
  });

  it("does not place a call whose code a newer one replaced", async () => {
    receiver.answer(500);
    await send(app, "12135551189");
    expect(await deliver()).toBe(1);
    clock.advance(60_000);
    await send(app, "12135551189");
    expect(await deliver()).toBe(1);

    const [newer, older] = await callsTo("12135551189");
    expect(newer).toMatchObject({ status: "SENT", attempts: 1 });
    expect(older).toMatchObject({ status: "FAILED", attempts: 1, lastError: "superseded by a newer code" });
    expect(receiver.received.map((r) => r.json.id)).toEqual([older!.id, newer!.id]);
  });

  it("erases codes from the outbox when they expire, and fails calls not delivered by then", async () => {
    await send(app, "12135551189");
    expect(await deliver()).toBe(1);
    receiver.answer(500);
    await send(app, "442079460958");
    expect(await deliver()).toBe(1);

    clock.advance(600_000 - 1);
    expect(await app.services.callDelivery.eraseExpiredCodes()).toBe(0);
    expect((await callsTo("12135551189"))[0]!.code).toMatch(/^\d{6}$/);
    clock.advance(1);
    // Even before the sweep, a call with an expired code is not placed.
    expect(await deliver()).toBe(0);
    expect(await app.services.callDelivery.eraseExpiredCodes()).toBe(2);

    const [sent] = await callsTo("12135551189");
    const [undelivered] = await callsTo("442079460958");
    expect(sent).toMatchObject({ status: "SENT", attempts: 1 });
    expect(undelivered).toMatchObject({
      status: "FAILED",
      attempts: 1,
      lastError: "the code expired before the call was delivered; last error: webhook answered HTTP 500: receiver says no",
    });
    for (const entry of [sent, undelivered]) {
      expect(entry!.code).toBeUndefined();
      expect(entry!.message).toBeUndefined();
      expect(entry!.codeExpiresAt).toBeUndefined();
    }
    const stored = await app.database.db.selectFrom("call_outbox").select(["code", "message"]).execute();
    expect(stored).toEqual([
      { code: null, message: null },
      { code: null, message: null },
    ]);
    clock.advance(60 * 60_000);
    expect(await deliver()).toBe(0);
    expect(receiver.received).toHaveLength(2);
  });

  // Two SQLite connections in one process would wait on each other synchronously (one SQLite
  // server has one connection), so several servers on one database is PostgreSQL's case.
  it.runIf(dialect === "postgres")("keeps the send throttles across servers sharing the database", async () => {
    const other = await startServer(receiver.url);
    const numbers = Array.from({ length: 25 }, (_, i) => `1213555${2000 + i}`);
    const responses = await Promise.all(
      numbers.map((number, i) => call(i % 2 ? other : app, "POST", `/v2/me/callerids/${number}`, { auth: account.api })),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(20);
    expect(responses.filter((r) => r.status === 429)).toHaveLength(5);
    expect((await app.services.outbox.list({ accountId: account.id }, { limit: 100, offset: 0 })).totalCount).toBe(20);
  });

  it.runIf(dialect === "postgres")("never hands one call to two workers at once", async () => {
    const numbers = Array.from({ length: 10 }, (_, i) => `1213555${3000 + i}`);
    for (const number of numbers) await send(app, number);
    const other = await startServer(receiver.url);
    const counts = await Promise.all([deliver(), deliver(other), deliver(), deliver(other)]);
    expect(counts.reduce((a, b) => a + b)).toBe(10);
    expect(receiver.received).toHaveLength(10);
    expect(new Set(receiver.received.map((r) => r.json.id)).size).toBe(10);
  });
});
