import { afterAll, beforeAll, expect, it } from "vitest";
import { sql } from "kysely";
import { backlogTimeoutMs } from "../src/http/database-gauges.js";
import { basic, call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { ingestCall, uploadRecording } from "./support/calls.js";
import { startWebhookReceiver, webhookSecret } from "./support/caller-ids.js";
import { fixture, upload } from "./support/media.js";
import { deliverAll } from "./support/sending.js";

/** The value of one series in the text exposition, or undefined when it is not published. */
function valueOf(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function metrics(app: TestApp, auth?: string): Promise<string> {
  const scraped = await call(app, "GET", "/metrics", { auth });
  expect(scraped.status).toBe(200);
  return scraped.text;
}

describeEachDialect("/metrics for operators", (dialect) => {
  let app: TestApp;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let alice: TestAccount;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    app = await startTestApp(dialect, {
      settings: { callsWebhookUrl: receiver.url, callsWebhookSecret: webhookSecret, callsMaxAttempts: "2", callerIdResendSeconds: "60" },
      authenticator: { maxFailures: 2 },
    });
    alice = await createTestAccount(app);
  });
  afterAll(async () => {
    await app.close();
    await receiver.close();
  });

  it("counts the outbox backlog and its age by type, and deliveries by outcome with the webhook's latency", async () => {
    const before = await metrics(app);
    expect(valueOf(before, 'switchboard_outbox_undelivered{type="callerIdVerification"}')).toBe(0);
    expect(valueOf(before, "switchboard_outbox_backlog_ok")).toBe(1);

    // Three verification calls: the receiver refuses the first twice (retried, then failed after 2 attempts).
    for (const number of ["12135550101", "12135550102", "12135550103"]) {
      expect((await call(app, "POST", `/v2/me/callerids/${number}`, { auth: alice.api })).status).toBe(200);
    }
    const queued = await metrics(app);
    expect(valueOf(queued, 'switchboard_outbox_undelivered{type="callerIdVerification"}')).toBe(3);
    expect(valueOf(queued, 'switchboard_outbox_undelivered{type="call"}')).toBe(0);
    expect(valueOf(queued, 'switchboard_outbox_oldest_undelivered_age_seconds{type="callerIdVerification"}')).toBeGreaterThanOrEqual(0);
    expect(valueOf(queued, 'switchboard_outbox_oldest_undelivered_age_seconds{type="call"}')).toBe(0);

    receiver.answer(500);
    await deliverAll(app);
    const first = await metrics(app);
    expect(valueOf(first, 'switchboard_deliveries_total{type="callerIdVerification",outcome="delivered"}')).toBe(2);
    expect(valueOf(first, 'switchboard_deliveries_total{type="callerIdVerification",outcome="retried"}')).toBe(1);
    expect(valueOf(first, 'switchboard_outbox_undelivered{type="callerIdVerification"}')).toBe(1);
    expect(valueOf(first, 'switchboard_webhook_request_duration_seconds_count{outcome="accepted"}')).toBe(2);
    expect(valueOf(first, 'switchboard_webhook_request_duration_seconds_count{outcome="refused"}')).toBe(1);

    // The retry is due after its backoff: make it due now, and refuse it again.
    await app.database.db.updateTable("call_outbox").set({ next_attempt_at: 0 }).where("status", "=", "PENDING").execute();
    receiver.answer(500);
    await deliverAll(app);
    const last = await metrics(app);
    expect(valueOf(last, 'switchboard_deliveries_total{type="callerIdVerification",outcome="failed"}')).toBe(1);
    expect(valueOf(last, 'switchboard_outbox_undelivered{type="callerIdVerification"}')).toBe(0);
    expect(valueOf(last, 'switchboard_webhook_request_duration_seconds_count{outcome="refused"}')).toBe(2);
  });

  it("counts authentication failures by API and throttle hits by throttle", async () => {
    const before = await metrics(app);
    const failures = (api: string, text: string) => valueOf(text, `switchboard_auth_failures_total{api="${api}"}`) ?? 0;
    expect((await call(app, "GET", "/v2/me/account", { auth: basic(alice.apiUsername, "wrong") })).status).toBe(401);
    expect((await call(app, "GET", "/v2/me/account")).status).toBe(401);
    expect((await call(app, "GET", "/admin/v1/accounts", { auth: "Bearer not-the-token" })).status).toBe(401);
    // maxFailures is 2 here: the third wrong login meets the lockout.
    expect((await call(app, "GET", "/v2/me/account", { auth: basic(alice.email, "wrong one") })).status).toBe(401);
    expect((await call(app, "GET", "/v2/me/account", { auth: basic(alice.email, "wrong two") })).status).toBe(401);
    expect((await call(app, "GET", "/v2/me/account", { auth: basic(alice.email, "wrong three") })).status).toBe(429);
    // The resend throttle: a second code to one number within 60 s.
    expect((await call(app, "POST", "/v2/me/callerids/12135550199", { auth: alice.api })).status).toBe(200);
    expect((await call(app, "POST", "/v2/me/callerids/12135550199", { auth: alice.api })).status).toBe(429);
    const after = await metrics(app);
    expect(failures("v2", after) - failures("v2", before)).toBe(4);
    expect(failures("admin", after) - failures("admin", before)).toBe(1);
    expect(valueOf(after, 'switchboard_throttled_total{throttle="login"}')).toBe(1);
    expect(valueOf(after, 'switchboard_throttled_total{throttle="caller_id_resend"}')).toBe(1);
  });

  it("counts uploads with their bytes and duration, and conversions", async () => {
    const image = fixture("image.png");
    expect((await upload(app, alice.api, image)).status).toBe(200);
    const tone = fixture("tone.mp3");
    const media = await upload(app, alice.api, tone);
    expect(media.status).toBe(200);
    // A WAV of an MP3 is converted on first download.
    expect((await fetch(`${app.baseUrl}/v2/media/${media.json.id}.wav`, { headers: { authorization: alice.api } })).status).toBe(200);
    const { json: callMade } = await ingestCall(app, alice.id);
    const recording = await uploadRecording(app, "POST", `/calls/${callMade.id}/recordings`, fixture("tone.wav"), { name: "greeting" });
    expect(recording.status).toBe(201);

    const text = await metrics(app);
    expect(valueOf(text, 'switchboard_uploads_total{kind="media"}')).toBe(2);
    expect(valueOf(text, 'switchboard_upload_bytes_total{kind="media"}')).toBe(image.length + tone.length);
    expect(valueOf(text, 'switchboard_upload_duration_seconds_count{kind="media"}')).toBe(2);
    expect(valueOf(text, 'switchboard_uploads_total{kind="recording"}')).toBe(1);
    // A WAV recording is stored as its MP3.
    expect(valueOf(text, 'switchboard_upload_bytes_total{kind="recording"}')).toBe(recording.json.lengthInBytes);
    expect(valueOf(text, 'switchboard_audio_conversions_total{conversion="mp3_to_wav",outcome="ok"}')).toBe(1);
    expect(valueOf(text, 'switchboard_audio_conversions_total{conversion="wav_to_mp3",outcome="ok"}')).toBe(1);
    expect(valueOf(text, 'switchboard_audio_conversion_duration_seconds_count{conversion="wav_to_mp3"}')).toBe(1);
  });

  it(`publishes the connection pool on PostgreSQL only`, async () => {
    const text = await metrics(app);
    if (dialect === "postgres") {
      // The scrape's own backlog query is in use or waiting for a connection as the pool is read.
      const inUse = valueOf(text, 'switchboard_db_pool_connections{state="in_use"}')!;
      const idle = valueOf(text, 'switchboard_db_pool_connections{state="idle"}')!;
      expect(inUse + idle).toBeGreaterThanOrEqual(1);
      expect(inUse + idle).toBeLessThanOrEqual(10);
      expect(valueOf(text, "switchboard_db_pool_waiting")).toBeGreaterThanOrEqual(0);
    } else {
      expect(text).not.toContain("switchboard_db_pool");
    }
  });

  it(`answers within ${backlogTimeoutMs} ms when the database is stuck, without the backlog`, async () => {
    // Holds what the backlog query needs: SQLite's one connection, or PostgreSQL's table lock.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = app.database.db.transaction().execute(async (tx) => {
      if (dialect === "postgres") await sql`lock table call_outbox in access exclusive mode`.execute(tx);
      locked();
      await held;
    });
    await isLocked;
    try {
      const started = performance.now();
      const text = await metrics(app);
      expect(performance.now() - started).toBeLessThan(backlogTimeoutMs + 5_000);
      expect(valueOf(text, "switchboard_outbox_backlog_ok")).toBe(0);
      expect(text).not.toContain("switchboard_outbox_undelivered{");
      expect(text).toContain("switchboard_http_request_duration_seconds");
    } finally {
      release();
      await holder;
    }
    expect(valueOf(await metrics(app), "switchboard_outbox_backlog_ok")).toBe(1);
  });
});

describeEachDialect("/metrics with SWITCHBOARD_METRICS_TOKEN", (dialect) => {
  let app: TestApp;
  const token = "metrics-token-0123456789";
  beforeAll(async () => {
    app = await startTestApp(dialect, { settings: { metricsToken: token } });
  });
  afterAll(() => app.close());

  it("asks for the token, as a bearer, and counts refusals", async () => {
    for (const auth of [undefined, "Bearer wrong-token-0123456789", `Basic ${Buffer.from(`x:${token}`).toString("base64")}`]) {
      const refused = await call(app, "GET", "/metrics", { auth });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="switchboard-metrics"');
      expect(refused.json).toEqual({ httpStatusCode: 401, internalCode: 0, message: "/metrics needs Authorization: Bearer <metrics token>" });
    }
    const text = await metrics(app, `Bearer ${token}`);
    expect(valueOf(text, 'switchboard_auth_failures_total{api="metrics"}')).toBe(3);
    // The other operations endpoints stay open.
    expect((await call(app, "GET", "/healthz")).status).toBe(200);
    expect((await call(app, "GET", "/readyz")).status).toBe(200);
  });
});
