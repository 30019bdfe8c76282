import { afterEach, beforeEach, expect, it } from "vitest";
import type { Database } from "../src/db/database.js";
import { webhookSignature } from "../src/delivery/webhook-transport.js";
import { call, createTestAccount, describeEachDialect, type TestAccount, type TestApp } from "./support/app.js";
import { admin } from "./support/calls.js";
import { persistentTestDatabase, startAppOn, startWebhookReceiver, testClock, webhookSecret } from "./support/caller-ids.js";
import { fixture, upload } from "./support/media.js";
import { addCredits, deliverAll, sendCalls, sendTexts, verifyCallerId } from "./support/sending.js";

describeEachDialect("calls and texts delivered to the operator's platform", (dialect) => {
  let store: Awaited<ReturnType<typeof persistentTestDatabase>>;
  let database: Database;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let app: TestApp;
  let alice: TestAccount;
  // Ahead of the wall clock, which stamps accounts' creation: no usage then predates its account.
  const clock = testClock(Date.now() + 600_000);

  beforeEach(async () => {
    store = await persistentTestDatabase(dialect);
    database = await store.open();
    receiver = await startWebhookReceiver();
    app = await startAppOn(database, {
      now: clock.now,
      settings: { callsWebhookUrl: receiver.url, callsWebhookSecret: webhookSecret, callsWebhookTimeoutMs: "1000", callsMaxAttempts: "3" },
    });
    alice = await createTestAccount(app);
    await verifyCallerId(app, alice, "12135551189");
    await addCredits(app, alice, 100);
    await deliverAll(app);
    receiver.received.length = 0;
  });
  afterEach(async () => {
    await app.close();
    await database.close();
    await receiver.close();
    await store.drop();
  });

  const getCall = async (id: number) => (await call(app, "GET", `/v2/calls/${id}`, { auth: alice.api })).json;
  const usage = async () => (await call(app, "GET", `/v2/me/billing/credit-usage?intervalEnd=${clock.now() + 1}`, { auth: alice.api })).json;

  it("POSTs each call, signed, with what to play; the 2xx makes it SELECTED", async () => {
    const sound = (await upload(app, alice.api, fixture("tone.wav"), { name: "greeting" })).json.id;
    const { json } = await sendCalls(
      app,
      alice,
      [{ phoneNumber: "12135551100", liveMessageSoundId: sound, machineMessage: "Call us back", voice: "FEMALE1", attributes: { order: "42" } }],
      "?campaignId=77",
    );
    const sent = json.items[0];
    await deliverAll(app);
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    const [entry] = (await app.services.outbox.list({ type: "call" }, { limit: 1, offset: 0 })).items;
    expect(request!.json).toEqual({
      id: entry!.id,
      type: "call",
      accountId: alice.id,
      callId: sent.id,
      batchId: sent.batchId,
      campaignId: 77,
      from: "12135551189",
      to: "12135551100",
      liveMessageSound: { id: sound, mediaType: "audio/x-wav", url: expect.stringMatching(/\/v2\/media\/public\/[\w-]{22}\.wav$/), lengthInSeconds: 1 },
      machineMessage: "Call us back",
      voice: "FEMALE1",
      attributes: { order: "42" },
      created: sent.created,
      attempt: 1,
    });
    expect(request!.headers["x-switchboard-call-id"]).toBe(entry!.id);
    const [, t] = /^t=(\d+),/.exec(request!.headers["x-switchboard-signature"] as string)!;
    expect(request!.headers["x-switchboard-signature"]).toBe(webhookSignature(webhookSecret, Number(t), request!.body));
    expect(entry).toMatchObject({ status: "SENT", callId: sent.id, type: "call" });
    expect(await getCall(sent.id)).toMatchObject({ state: "SELECTED", campaignId: 77 });
    // The sound's link needs no credentials: the platform fetches it as it is.
    const soundFile = await fetch(request!.json.liveMessageSound.url.replace(/^https?:\/\/[^/]+/, app.baseUrl));
    expect(Buffer.from(await soundFile.arrayBuffer()).equals(fixture("tone.wav"))).toBe(true);
  });

  it("charges the outcome the platform reports once, answers the same report again, and refuses another", async () => {
    const { json } = await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessage: "hello" }]);
    const id = json.items[0].id;
    await deliverAll(app);
    const finishTime = clock.now();
    const report = { result: "LA", durationSeconds: 95, finishTime, callerName: "JANE DOE" };
    const first = await admin(app, "POST", `/calls/${id}/outcome`, report);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      id,
      state: "FINISHED",
      result: "LA",
      startTime: finishTime - 95_000,
      durationSeconds: 95,
      finishTime,
      callerName: "JANE DOE",
      charge: { minutes: 2, credits: 2, planCredits: 0, payAsYouGoCredits: 2 },
    });
    const again = await admin(app, "POST", `/calls/${id}/outcome`, report);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    const other = await admin(app, "POST", `/calls/${id}/outcome`, { ...report, durationSeconds: 96 });
    expect(other.status).toBe(409);
    expect(other.json.message).toBe(`call ${id} already finished with result LA after 95 s; its outcome cannot change`);
    expect(await usage()).toMatchObject({ callsDurationMinutes: 2, creditsUsed: 2 });
    expect(await getCall(id)).toMatchObject({
      state: "FINISHED",
      finalCallResult: "LA",
      records: [{ id, billedAmount: 2, finishTime, callerName: "JANE DOE", result: "LA", callResult: "LA" }],
    });
    expect((await admin(app, "POST", "/calls/999999/outcome", report)).status).toBe(404);
    expect((await admin(app, "POST", `/calls/${id}/outcome`, { ...report, result: "MAYBE" })).status).toBe(400);
  });

  it("takes an outcome reported before the platform's 2xx was recorded, and then delivers nothing more", async () => {
    const { json } = await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessage: "hello" }]);
    const id = json.items[0].id;
    expect((await admin(app, "POST", `/calls/${id}/outcome`, { result: "NO_ANS", durationSeconds: 0 })).status).toBe(200);
    await deliverAll(app);
    expect(receiver.received).toHaveLength(0);
    expect(await getCall(id)).toMatchObject({ state: "FINISHED", finalCallResult: "NO_ANS", records: [{ billedAmount: 0 }] });
  });

  it("finishes a call the platform never accepted as UNDIALED, charged nothing", async () => {
    receiver.answer(500, 500, 500);
    const { json } = await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessage: "hello" }]);
    for (let attempt = 0; attempt < 3; attempt++) {
      await deliverAll(app);
      clock.advance(60_000);
    }
    expect(receiver.received).toHaveLength(3);
    expect(await getCall(json.items[0].id)).toMatchObject({ state: "FINISHED", finalCallResult: "UNDIALED", records: [{ billedAmount: 0, result: "UNDIALED" }] });
    expect(await usage()).toMatchObject({ callsDurationMinutes: 0, creditsUsed: 0 });
  });

  it("POSTs texts, and charges the segments of the outcome reported", async () => {
    const image = (await upload(app, alice.api, fixture("image.jpg"), { name: "menu" })).json.id;
    const { json } = await sendTexts(app, alice, [{ phoneNumber: "12135551100", message: "m".repeat(170), media: [{ id: image }] }]);
    const id = json.items[0].id;
    await deliverAll(app);
    expect(receiver.received[0]!.json).toMatchObject({
      type: "text",
      textId: id,
      from: "12135551189",
      to: "12135551100",
      message: "m".repeat(170),
      segments: 2,
      media: [{ id: image, mediaType: "image/jpeg", url: expect.stringMatching(/\.jpeg$/) }],
      attempt: 1,
    });
    const reported = await admin(app, "POST", `/texts/${id}/outcome`, { result: "SENT" });
    expect(reported.json).toMatchObject({ state: "FINISHED", result: "SENT", segments: 2, charge: { texts: 2, credits: 2 } });
    expect((await admin(app, "POST", `/texts/${id}/outcome`, { result: "SENT" })).json).toEqual(reported.json);
    expect((await admin(app, "POST", `/texts/${id}/outcome`, { result: "CARRIER_ERROR" })).status).toBe(409);
    expect(await usage()).toMatchObject({ textsSent: 2, creditsUsed: 2 });
  });
});
