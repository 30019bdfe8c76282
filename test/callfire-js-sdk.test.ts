import { createHash } from "node:crypto";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { connectCallfireSdk, sdkFailure, withoutGlobalFormData, type CallfireSdk } from "./support/callfire-js-sdk.js";
import { admin, ingestCall, uploadRecording } from "./support/calls.js";
import { fixture } from "./support/media.js";

// Every /v2 operation through CallFire's own JS SDK package, called as CallFire's 2.0/js samples
// call it (no paging arguments, codes as JSON numbers, files as streams), with the account's
// login and with an API credential.

const fixturePath = (name: string) => fileURLToPath(new URL(`./fixtures/media/${name}`, import.meta.url));
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const accountLoginOnly = { httpStatusCode: 403, internalCode: 0, message: "this operation needs the account's own login, not API credentials" };

describeEachDialect("CallFire's JS SDK, callfire-api-client-js 0.0.4", (dialect) => {
  // A fixed clock, so that usage intervals are exact.
  const clock = Date.now();
  let app: TestApp;
  let account: TestAccount;
  let credential: { id: number; username: string; password: string };
  let sdk: Record<"account login" | "API credential", CallfireSdk>;
  let callId: number;
  let recording: Record<string, unknown>;
  const recordingBytes = fixture("tone.mp3");

  beforeAll(async () => {
    app = await startTestApp(dialect, { now: () => clock });
    account = await createTestAccount(app);
    const created = await app.services.credentials.create(account.id, "sdk");
    credential = { id: created.id, username: created.username, password: created.password };
    sdk = {
      "account login": await connectCallfireSdk(app, account.email, account.password),
      "API credential": await connectCallfireSdk(app, credential.username, credential.password),
    };
    const ingested = await ingestCall(app, account.id, { startTime: clock - 600_000, durationSeconds: 61, campaignId: 15 });
    callId = ingested.json.id;
    recording = (await uploadRecording(app, "POST", `/calls/${callId}/recordings`, recordingBytes, { name: "call-recording1" })).json;
    await admin(app, "POST", `/accounts/${account.id}/texts`, { count: 3, time: clock - 300_000 });
  });
  afterAll(() => app.close());

  it("sends a stream as the text [object Object] under Node's global FormData, which the server refuses by name", async () => {
    const failure = await sdkFailure(sdk["API credential"].media!.createMedia!({ name: "lost", file: fs.createReadStream(fixturePath("image.png")) }));
    expect(failure).toEqual({ status: 400, obj: { httpStatusCode: 400, internalCode: 0, message: "the part named file is required" } });
  });

  describe.each(["account login", "API credential"] as const)("with the %s", (principal) => {
    const client = () => sdk[principal];
    const isLogin = principal === "account login";

    it("getAccount: the account", async () => {
      const response = await client().me!.getAccount!();
      expect(response.status).toBe(200);
      expect(response.obj).toEqual({
        id: account.id,
        email: account.email,
        name: "Test Account",
        firstName: "Test",
        lastName: "User",
        permissions: ["ACCOUNT_HOLDER", "API"],
      });
    });

    describe("API credentials", () => {
      let made: { id: number; name: string; username: string; password: string; enabled: boolean };
      const name = `from CallFire's SDK (${principal})`;

      it(`createApiCredential: ${isLogin ? "the new credential, password in clear" : "403"}`, async () => {
        const request = client().me!.createApiCredential!({ body: { name } });
        if (!isLogin) return expect(await sdkFailure(request)).toEqual({ status: 403, obj: accountLoginOnly });
        const response = await request;
        made = response.obj;
        expect(response.obj).toEqual({ id: expect.any(Number), name, username: expect.stringMatching(/^[0-9a-f]{12}$/), password: expect.stringMatching(/^[0-9a-f]{32}$/), enabled: true });
      });

      it(`findApiCredentials: ${isLogin ? "a page, without paging arguments" : "403"}`, async () => {
        const request = client().me!.findApiCredentials!({ name, fields: "items(id,name,enabled),limit,offset,totalCount" });
        if (!isLogin) return expect(await sdkFailure(request)).toEqual({ status: 403, obj: accountLoginOnly });
        expect((await request).obj).toEqual({ items: [{ id: made.id, name, enabled: true }], limit: 100, offset: 0, totalCount: 1 });
      });

      it(`getApiCredential: ${isLogin ? "the credential, its fields selected" : "403"}`, async () => {
        const request = client().me!.getApiCredential!({ id: isLogin ? made.id : credential.id, fields: "name,enabled" });
        if (!isLogin) return expect(await sdkFailure(request)).toEqual({ status: 403, obj: accountLoginOnly });
        expect((await request).obj).toEqual({ name, enabled: true });
        expect((await client().me!.getApiCredential!({ id: made.id })).obj).toEqual({ ...made, password: `****${made.password.slice(-4)}` });
      });

      it(`disableApiCredentials: ${isLogin ? "200, and the credential is disabled" : "403"}`, async () => {
        const request = client().me!.disableApiCredentials!({ id: isLogin ? made.id : credential.id });
        if (!isLogin) return expect(await sdkFailure(request)).toEqual({ status: 403, obj: accountLoginOnly });
        expect(await request).toMatchObject({ status: 200, obj: null, data: "" });
        expect((await client().me!.getApiCredential!({ id: made.id, fields: "enabled" })).obj).toEqual({ enabled: false });
      });

      it(`enableApiCredentials: ${isLogin ? "200, and the credential is enabled" : "403"}`, async () => {
        const request = client().me!.enableApiCredentials!({ id: isLogin ? made.id : credential.id });
        if (!isLogin) return expect(await sdkFailure(request)).toEqual({ status: 403, obj: accountLoginOnly });
        expect(await request).toMatchObject({ status: 200, obj: null, data: "" });
        expect((await client().me!.getApiCredential!({ id: made.id, fields: "enabled" })).obj).toEqual({ enabled: true });
      });

      it(`deleteApiCredential: ${isLogin ? "204, then 404" : "403"}`, async () => {
        const request = client().me!.deleteApiCredential!({ id: isLogin ? made.id : credential.id });
        if (!isLogin) return expect(await sdkFailure(request)).toEqual({ status: 403, obj: accountLoginOnly });
        expect((await request).status).toBe(204);
        expect(await sdkFailure(client().me!.getApiCredential!({ id: made.id }))).toEqual({
          status: 404,
          obj: { httpStatusCode: 404, internalCode: 0, message: `api credential ${made.id} not found` },
        });
      });
    });

    describe("caller IDs", () => {
      const number = isLogin ? "12132000384" : "12135551189";

      it("sendVerificationCodeToCallerId: 200 with no body, and a call is queued", async () => {
        expect(await client().me!.sendVerificationCodeToCallerId!({ callerid: number })).toMatchObject({ status: 200, obj: null, data: "" });
        const queued = await app.services.outbox.list({ accountId: account.id, to: number }, { limit: 10, offset: 0 });
        expect(queued.items.map((call) => [call.to, call.status])).toEqual([[number, "PENDING"]]);
      });

      it("verifyCallerId: false for the sample's 1234, true for the code the call said (a bare boolean: obj is null)", async () => {
        const wrong = await client().me!.verifyCallerId!({ callerid: number, body: { verificationCode: 1234 } });
        expect(wrong).toMatchObject({ status: 200, obj: null, data: "false" });
        const [queued] = (await app.services.outbox.list({ accountId: account.id, to: number }, { limit: 1, offset: 0 })).items;
        const right = await client().me!.verifyCallerId!({ callerid: number, body: { verificationCode: Number(queued!.code) } });
        expect(right).toMatchObject({ status: 200, obj: null, data: "true" });
      });

      it("getCallerIds: the verified numbers", async () => {
        const verified = isLogin ? [{ phoneNumber: "12132000384" }] : [{ phoneNumber: "12132000384" }, { phoneNumber: "12135551189" }];
        expect((await client().me!.getCallerIds!()).obj).toEqual({ items: verified });
      });
    });

    describe("media", () => {
      const file = isLogin ? "tone.wav" : "tone.mp3";
      const extension = isLogin ? "wav" : "mp3";
      const name = isLogin ? "my-file" : "hold music";
      let media: { id: number; publicUrl: string };

      it("createMedia: the new media's id, the file sent as a stream", async () => {
        const response = await withoutGlobalFormData(() => client().media!.createMedia!({ name, file: fs.createReadStream(fixturePath(file)) }));
        expect(response.obj).toEqual({ id: expect.any(Number) });
        media = { id: response.obj.id, publicUrl: "" };
      });

      it("getMedia: the media's metadata", async () => {
        const response = await client().media!.getMedia!({ id: media.id });
        expect(response.obj).toEqual({
          id: media.id,
          accountId: account.id,
          name,
          created: expect.any(Number),
          lengthInBytes: fixture(file).length,
          mediaType: isLogin ? "audio/x-wav" : "audio/mp3",
          publicUrl: expect.stringMatching(new RegExp(`^${app.baseUrl}/v2/media/public/[A-Za-z0-9_-]{22}\\.${extension}$`)),
        });
        media = response.obj;
      });

      it("findMedia: a page, without paging arguments", async () => {
        expect((await client().media!.findMedia!({ filter: name })).obj).toEqual({ items: [media], limit: 100, offset: 0, totalCount: 1 });
      });

      it("getMediaData: the file's bytes", async () => {
        const response = await client().media!.getMediaData!({ id: media.id, extension });
        expect(response.status).toBe(200);
        expect(sha256(response.data)).toBe(sha256(fixture(file)));
      });

      it("getMediaDataBinary: the stored bytes", async () => {
        const response = await client().media!.getMediaDataBinary!({ id: media.id });
        expect(sha256(response.data)).toBe(sha256(fixture(file)));
      });

      it("getMediaDataByKey: the file's bytes, by the key in its publicUrl", async () => {
        const key = media.publicUrl.slice(media.publicUrl.lastIndexOf("/") + 1, media.publicUrl.lastIndexOf("."));
        const response = await client().media!.getMediaDataByKey!({ key, extension });
        expect(sha256(response.data)).toBe(sha256(fixture(file)));
      });
    });

    describe("billing", () => {
      it("getCreditUsage: the sample's interval, and all usage without one", async () => {
        const sample = await client().me!.getCreditUsage!({ intervalBegin: 2145905600000, intervalEnd: 2145945600000 });
        expect(sample.obj).toEqual({ intervalBegin: 2145905600000, intervalEnd: 2145945600000, callsDurationMinutes: 0, textsSent: 0, creditsUsed: 0 });
        const all = await client().me!.getCreditUsage!();
        expect(all.obj).toEqual({ intervalBegin: clock - 600_000, intervalEnd: clock, callsDurationMinutes: 2, textsSent: 3, creditsUsed: 5 });
      });

      it("getBillingPlanUsage: this month's plan and balance", async () => {
        const now = new Date(clock);
        expect((await client().me!.getBillingPlanUsage!()).obj).toEqual({
          intervalStart: Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1),
          intervalEnd: Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - 1,
          remainingPlanCredits: 0,
          remainingPayAsYouGoCredits: -5,
          totalRemainingCredits: -5,
        });
      });
    });

    describe("call recordings", () => {
      const mp3Url = () => `${app.baseUrl}/v2/calls/recordings/${recording.id}.mp3`;

      it("getCallRecordings: the call's recordings, fields selected as the sample selects them", async () => {
        const response = await client().calls!.getCallRecordings!({ id: callId, fields: "items(callId,campaignId,lengthInBytes,mp3Url)" });
        expect(response.obj).toEqual({ items: [{ callId, campaignId: 15, lengthInBytes: recordingBytes.length, mp3Url: mp3Url() }] });
      });

      it("getCallRecordingByName: the recording, fields selected as the sample selects them", async () => {
        const response = await client().calls!.getCallRecordingByName!({ id: callId, name: "call-recording1", fields: "callId,campaignId,lengthInBytes,mp3Url" });
        expect(response.obj).toEqual({ callId, campaignId: 15, lengthInBytes: recordingBytes.length, mp3Url: mp3Url() });
      });

      it("getCallRecording: the whole recording", async () => {
        expect((await client().calls!.getCallRecording!({ id: recording.id })).obj).toEqual({
          id: recording.id,
          callId,
          campaignId: 15,
          name: "call-recording1",
          created: clock,
          lengthInBytes: recordingBytes.length,
          lengthInSeconds: 1,
          hash: sha256(recordingBytes),
          mp3Url: mp3Url(),
          state: "READY",
        });
      });

      it("getCallRecordingMp3ByName: the MP3's bytes", async () => {
        const response = await client().calls!.getCallRecordingMp3ByName!({ id: callId, name: "call-recording1" });
        expect(sha256(response.data)).toBe(sha256(recordingBytes));
      });

      it("getCallRecordingMp3: the MP3's bytes", async () => {
        const response = await client().calls!.getCallRecordingMp3!({ id: recording.id });
        expect(sha256(response.data)).toBe(sha256(recordingBytes));
      });
    });
  });
});
