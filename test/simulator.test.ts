import { createHash } from "node:crypto";
import { fileTypeFromBuffer } from "file-type";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import type { Database } from "../src/db/database.js";
import { spokenSeconds } from "../src/delivery/simulator.js";
import { makeWav } from "./audio/helpers.js";
import { call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { admin } from "./support/calls.js";
import { persistentTestDatabase, startAppOn, testClock } from "./support/caller-ids.js";
import { download, fixture, upload } from "./support/media.js";
import { addCredits, deliverAll, sendCalls, sendTexts, verifyCallerId } from "./support/sending.js";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const delayMs = 1_000;

describe("spoken duration", () => {
  it("is the message at 150 words a minute, at least a second", () => {
    expect([spokenSeconds(""), spokenSeconds("Hi"), spokenSeconds("one two three"), spokenSeconds("word ".repeat(150)), spokenSeconds("word ".repeat(151))]).toEqual([1, 1, 2, 60, 61]);
  });
});

describeEachDialect("the sandbox simulator", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  // Ahead of the wall clock, which stamps accounts' creation: no usage then predates its account.
  const clock = testClock(Date.now() + 60_000);

  beforeAll(async () => {
    app = await startTestApp(dialect, { now: clock.now, config: loadConfig({ logLevel: "silent", simulatorDelayMs: String(delayMs) }, {}) });
    alice = await createTestAccount(app);
    await verifyCallerId(app, alice, "12135551189");
    await addCredits(app, alice, 1000);
  });
  afterAll(() => app.close());

  const getCall = async (id: number) => (await call(app, "GET", `/v2/calls/${id}`, { auth: alice.api })).json;
  const getText = async (id: number) => (await call(app, "GET", `/v2/texts/${id}`, { auth: alice.api })).json;

  it("takes a call (SELECTED) and finishes it after the delay, with the result its number asks for", async () => {
    const message = "Table ready";
    const numbers = ["12135551100", "12135550001", "12135550002", "12135550003", "12135550004"];
    const sent = await sendCalls(app, alice, numbers.map((phoneNumber) => ({ phoneNumber, liveMessage: message, machineMessage: "Call back" })));
    const ids: number[] = sent.json.items.map((c: any) => c.id);
    const sentAt = clock.now();

    await deliverAll(app);
    for (const id of ids) expect((await getCall(id)).state).toBe("SELECTED");
    clock.advance(delayMs - 1);
    await deliverAll(app);
    expect((await getCall(ids[0]!)).state).toBe("SELECTED");
    clock.advance(1);
    await deliverAll(app);

    const calls = await Promise.all(ids.map(getCall));
    expect(calls.map((c) => [c.state, c.finalCallResult, c.records[0].result, c.records[0].callResult])).toEqual([
      ["FINISHED", "LA", "LA", "LA"],
      ["FINISHED", "BUSY", "BUSY", "BUSY"],
      ["FINISHED", "NO_ANS", "NO_ANS", "NO_ANS"],
      ["FINISHED", "AM", "AM", "AM"],
      ["FINISHED", "CARRIER_ERROR", "CARRIER_ERROR", "CARRIER_ERROR"],
    ]);
    expect(calls[0]).toEqual({
      id: ids[0],
      fromNumber: "12135551189",
      toNumber: "12135551100",
      state: "FINISHED",
      batchId: sent.json.items[0].batchId,
      inbound: false,
      created: sentAt,
      modified: sentAt + delayMs,
      finalCallResult: "LA",
      records: [{ id: ids[0], billedAmount: 1, finishTime: sentAt + delayMs, result: "LA", callResult: "LA" }],
      agentCall: false,
    });
    // Only the answered calls lasted, and were charged: the live message (2 words: 1 s) and the machine one (2 words: 1 s).
    const admins = await Promise.all(ids.map(async (id) => (await admin(app, "GET", `/calls/${id}`)).json));
    expect(admins.map((c) => [c.durationSeconds, c.charge.minutes, c.charge.credits])).toEqual([
      [1, 1, 1],
      [0, 0, 0],
      [0, 0, 0],
      [1, 1, 1],
      [0, 0, 0],
    ]);
    expect(calls.map((c) => c.records[0].billedAmount)).toEqual([1, 0, 0, 1, 0]);
  });

  it("plays an answering machine the machine message, and the live one when there is none", async () => {
    const live = "Hello";
    const machine = "Sorry we missed you, please call us back at your convenience today";
    const { json } = await sendCalls(app, alice, [
      { phoneNumber: "12135550003", liveMessage: live, machineMessage: machine },
      { phoneNumber: "13105550003", liveMessage: machine },
    ]);
    await deliverAll(app);
    clock.advance(10_000);
    await deliverAll(app);
    const durations = await Promise.all(json.items.map(async (c: any) => (await admin(app, "GET", `/calls/${c.id}`)).json));
    // 12 words at 150 a minute: 5 s, either way.
    expect(durations.map((c: any) => [c.result, c.durationSeconds])).toEqual([
      ["AM", 5],
      ["AM", 5],
    ]);
  });

  it("records the sound it played as MP3: the uploaded MP3 itself", async () => {
    const sound = (await upload(app, alice.api, fixture("tone.mp3"), { name: "tone" })).json.id;
    const { json } = await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessageSoundId: sound }]);
    const id = json.items[0].id;
    await deliverAll(app);
    clock.advance(delayMs);
    await deliverAll(app);
    const finished = await getCall(id);
    const [recording] = finished.records[0].recordings;
    expect(recording).toEqual({
      id: expect.any(Number),
      callId: id,
      name: "recording",
      created: clock.now(),
      lengthInBytes: fixture("tone.mp3").length,
      lengthInSeconds: 1,
      hash: sha256(fixture("tone.mp3")),
      mp3Url: `${app.baseUrl}/v2/calls/recordings/${recording.id}.mp3`,
      state: "READY",
    });
    const mp3 = await download(app, `/v2/calls/recordings/${recording.id}.mp3`, { authorization: alice.api });
    expect(mp3.body.equals(fixture("tone.mp3"))).toBe(true);
    expect((await admin(app, "GET", `/calls/${id}`)).json).toMatchObject({ durationSeconds: 1, result: "LA" });
  });

  it("plays a sound longer than the delay to its end before the call finishes", async () => {
    const wav = Buffer.from(makeWav({ rate: 8000, channels: 1, seconds: 3 }));
    const sound = (await upload(app, alice.api, wav, { name: "three seconds" })).json.id;
    const { json } = await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessageSoundId: sound }]);
    const id = json.items[0].id;
    const acceptedAt = clock.now();
    await deliverAll(app);
    clock.advance(delayMs);
    await deliverAll(app);
    expect((await getCall(id)).state).toBe("SELECTED");
    clock.advance(3_000 - delayMs);
    await deliverAll(app);
    const finished = await getCall(id);
    expect(finished.records[0]).toMatchObject({ finishTime: acceptedAt + 3_000, result: "LA" });
    const mp3 = await download(app, finished.records[0].recordings[0].mp3Url.replace(app.baseUrl, ""), { authorization: alice.api });
    expect(await fileTypeFromBuffer(mp3.body)).toEqual({ ext: "mp3", mime: "audio/mpeg" });
    expect(finished.records[0].recordings[0].lengthInSeconds).toBe(3);
  });

  it("sends texts, fails those to …0001 with CARRIER_ERROR, and charges the delivered ones by segment", async () => {
    const { json } = await sendTexts(app, alice, [
      { phoneNumber: "12135551100", message: "z".repeat(200) },
      { phoneNumber: "12135550001", message: "never arrives" },
    ]);
    const [delivered, failed] = json.items.map((t: any) => t.id);
    await deliverAll(app);
    expect((await getText(delivered)).state).toBe("SELECTED");
    clock.advance(delayMs);
    await deliverAll(app);
    expect(await getText(delivered)).toMatchObject({
      state: "FINISHED",
      finalTextResult: "SENT",
      records: [{ id: delivered, billedAmount: 2, finishTime: clock.now(), message: "z".repeat(200), textResult: "SENT" }],
    });
    expect(await getText(failed)).toMatchObject({ state: "FINISHED", finalTextResult: "CARRIER_ERROR", records: [{ billedAmount: 0, textResult: "CARRIER_ERROR" }] });
  });
});

describeEachDialect("the simulator across a restart", (dialect) => {
  let store: Awaited<ReturnType<typeof persistentTestDatabase>>;
  const open: Array<{ app: TestApp; database: Database }> = [];
  // Ahead of the wall clock, which stamps accounts' creation: no usage then predates its account.
  const clock = testClock(Date.now() + 60_000);

  beforeEach(async () => {
    store = await persistentTestDatabase(dialect);
  });
  afterEach(async () => {
    for (const { app, database } of open.splice(0)) {
      await app.close();
      await database.close();
    }
    await store.drop();
  });

  const start = async () => {
    const database = await store.open();
    const app = await startAppOn(database, { now: clock.now, settings: { simulatorDelayMs: String(delayMs) } });
    open.push({ app, database });
    return app;
  };

  it("finishes a call it took before the server stopped", async () => {
    const first = await start();
    const alice = await createTestAccount(first);
    await verifyCallerId(first, alice, "12135551189");
    await addCredits(first, alice, 10);
    const { json } = await sendCalls(first, alice, [{ phoneNumber: "12135551100", liveMessage: "still here" }]);
    await deliverAll(first);
    const { app: stopped, database } = open.pop()!;
    await stopped.close();
    await database.close();

    const second = await start();
    clock.advance(delayMs);
    await deliverAll(second);
    const finished = await call(second, "GET", `/v2/calls/${json.items[0].id}`, { auth: alice.api });
    expect(finished.json).toMatchObject({ state: "FINISHED", finalCallResult: "LA", records: [{ billedAmount: 1 }] });
    const usage = await call(second, "GET", "/v2/me/billing/credit-usage", { auth: alice.api });
    expect(usage.json).toMatchObject({ callsDurationMinutes: 1, creditsUsed: 1 });
  });
});
