import { createHash } from "node:crypto";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileTypeFromBuffer } from "file-type";
import { afterEach, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { createTestAccount, describeEachDialect, startTestApp, type TestApp } from "./support/app.js";
import { admin, uploadRecording } from "./support/calls.js";
import { testClock, webhookSecret } from "./support/caller-ids.js";
import { connectCallfireSdk, withoutGlobalFormData } from "./support/callfire-js-sdk.js";
import { fixture } from "./support/media.js";
import { deliverAll } from "./support/sending.js";

// The flow of issue 11 as a CallFire user writes it, through CallFire's own JS SDK: verify a
// caller ID, upload a WAV, send a call that plays it, read the finished call and its recording,
// download the recording, and see the charge in the usage.

const fixturePath = (name: string) => fileURLToPath(new URL(`./fixtures/media/${name}`, import.meta.url));
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const callerId = "12135551189";

describeEachDialect("a CallFire call, end to end through the JS SDK", (dialect) => {
  let app: TestApp;
  let platform: http.Server | undefined;
  // Ahead of the wall clock, which stamps accounts' creation: no usage then predates its account.
  const clock = testClock(Date.now() + 600_000);

  afterEach(async () => {
    await app.close();
    if (platform) await new Promise((resolve) => platform!.close(resolve));
    platform = undefined;
  });

  /** An account with credits and an SDK client on its API credential. */
  async function start(settings: Record<string, string>) {
    app = await startTestApp(dialect, { now: clock.now, config: loadConfig({ logLevel: "silent", simulatorDelayMs: "1000", ...settings }, {}) });
    const account = await createTestAccount(app);
    expect((await admin(app, "POST", `/accounts/${account.id}/credits`, { amount: 10 })).status).toBe(200);
    const credential = await app.services.credentials.create(account.id, "sdk");
    const client: any = await connectCallfireSdk(app, credential.username, credential.password);
    return { account, client };
  }

  /** Verify a caller ID, upload a WAV, send a call playing it: the call, READY. */
  async function sendCallPlayingAWav(client: any, accountId: number) {
    await client.me.sendVerificationCodeToCallerId({ callerid: callerId });
    await deliverAll(app);
    // In the sandbox, the code is in the operator's outbox (and the log).
    const { items } = await app.services.outbox.list({ accountId, type: "callerIdVerification" }, { limit: 1, offset: 0 });
    const verified = await client.me.verifyCallerId({ callerid: callerId, body: { verificationCode: items[0]!.code } });
    // swagger-client 2.x leaves a bare JSON boolean in data (obj is null).
    expect([verified.status, verified.data]).toEqual([200, "true"]);
    expect((await client.me.getCallerIds()).obj).toEqual({ items: [{ phoneNumber: callerId }] });

    const media = await withoutGlobalFormData(() => client.media.createMedia({ name: "greeting", file: fs.createReadStream(fixturePath("tone.wav")) }));
    const soundId = media.obj.id;
    expect((await client.media.getMedia({ id: soundId })).obj).toMatchObject({ id: soundId, name: "greeting", mediaType: "audio/x-wav" });

    const sent = await client.calls.sendCalls({ body: [{ phoneNumber: "12135551100", liveMessageSoundId: soundId }] });
    expect(sent.obj.items).toEqual([expect.objectContaining({ fromNumber: callerId, toNumber: "12135551100", state: "READY" })]);
    return sent.obj.items[0];
  }

  /** The finished call's record, its recording downloaded as MP3, and the charge in both usages. */
  async function expectFinishedWithRecordingAndCharge(client: any, callId: number, minutes: number) {
    const finished = (await client.calls.getCall({ id: callId })).obj;
    expect(finished).toMatchObject({ id: callId, state: "FINISHED", finalCallResult: "LA", records: [{ id: callId, billedAmount: minutes, result: "LA" }] });
    const [recording] = finished.records[0].recordings;
    expect(recording).toMatchObject({ callId, state: "READY", lengthInSeconds: 1 });

    const mp3 = await client.calls.getCallRecordingMp3({ id: recording.id });
    expect(mp3.status).toBe(200);
    const bytes = mp3.data as Buffer;
    expect(await fileTypeFromBuffer(bytes)).toEqual({ ext: "mp3", mime: "audio/mpeg" });
    expect(bytes.length).toBe(recording.lengthInBytes);
    expect(sha256(bytes)).toBe(recording.hash);

    const usage = (await client.me.getCreditUsage({ intervalEnd: clock.now() + 1 })).obj;
    expect(usage).toMatchObject({ callsDurationMinutes: minutes, textsSent: 0, creditsUsed: minutes });
    expect((await client.me.getBillingPlanUsage()).obj).toMatchObject({ remainingPayAsYouGoCredits: 10 - minutes, totalRemainingCredits: 10 - minutes });
  }

  it("finishes the call in the sandbox simulator, with the WAV as its recording", async () => {
    const { account, client } = await start({});
    const sent = await sendCallPlayingAWav(client, account.id);
    await deliverAll(app);
    expect((await client.calls.getCall({ id: sent.id })).obj.state).toBe("SELECTED");
    clock.advance(1000);
    await deliverAll(app);
    await expectFinishedWithRecordingAndCharge(client, sent.id, 1);
    const found = await client.calls.findCalls({ id: [sent.id, 999_999], states: "FINISHED", results: "LA", limit: 100, offset: 0 });
    expect(found.obj).toMatchObject({ items: [{ id: sent.id }], limit: 100, offset: 0, totalCount: 1 });
  });

  it("finishes the call as the operator's platform reports it through /admin/v1", async () => {
    // The platform: takes each call (2xx), then reports how it went and uploads its recording.
    const reports: Promise<void>[] = [];
    platform = http.createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        response.writeHead(204).end();
        const delivery = JSON.parse(body);
        if (delivery.type !== "call") return;
        reports.push(
          (async () => {
            const outcome = await admin(app, "POST", `/calls/${delivery.callId}/outcome`, { result: "LA", durationSeconds: 75 });
            expect(outcome.status).toBe(200);
            const recording = await uploadRecording(app, "POST", `/calls/${delivery.callId}/recordings`, fixture("tone.wav"), { name: "platform" });
            expect(recording.status).toBe(201);
          })(),
        );
      });
    });
    await new Promise<void>((resolve) => platform!.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(platform.address() as AddressInfo).port}/switchboard`;
    const { account, client } = await start({ callsWebhookUrl: url, callsWebhookSecret: webhookSecret });

    const sent = await sendCallPlayingAWav(client, account.id);
    await deliverAll(app);
    expect(reports).toHaveLength(1);
    await Promise.all(reports);
    await expectFinishedWithRecordingAndCharge(client, sent.id, 2);
  });
});
