import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { admin } from "./support/calls.js";
import { testClock } from "./support/caller-ids.js";
import { fixture, upload } from "./support/media.js";
import { addCredits, sendCalls, sendTexts, verifyCallerId } from "./support/sending.js";

const callerId = "12135551189";
const expectedNumber = "expected E.164 digits with or without +, such as 12135551189 or +442079460958 (a bare 10-digit number is North American)";

const error = (message: string | RegExp) => ({ httpStatusCode: 400, internalCode: 0, message: typeof message === "string" ? message : expect.stringMatching(message) });

describeEachDialect("rules of sending", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  let bob: TestAccount;
  let aliceSound: number;
  let aliceImage: number;
  let bobSound: number;
  // Ahead of the wall clock, which stamps accounts' creation: no usage then predates its account.
  const clock = testClock(Date.now() + 60_000);

  beforeAll(async () => {
    app = await startTestApp(dialect, { now: clock.now, config: loadConfig({ logLevel: "silent", simulatorDelayMs: "1000" }, {}) });
    alice = await createTestAccount(app);
    bob = await createTestAccount(app);
    await verifyCallerId(app, alice, callerId);
    await verifyCallerId(app, alice, "13105551189");
    await addCredits(app, alice, 100_000);
    aliceSound = (await upload(app, alice.api, fixture("tone.wav"), { name: "tone" })).json.id;
    aliceImage = (await upload(app, alice.api, fixture("image.png"), { name: "logo" })).json.id;
    bobSound = (await upload(app, bob.api, fixture("tone.wav"), { name: "tone" })).json.id;
  });
  afterAll(() => app.close());

  const callsOf = async (account: TestAccount) => (await call(app, "GET", "/v2/calls?limit=1000", { auth: account.api })).json.items as any[];
  const textsOf = async (account: TestAccount) => (await call(app, "GET", "/v2/texts?limit=1000", { auth: account.api })).json.items as any[];

  /** A refused request creates nothing for any of its recipients. */
  async function expectRefused(response: { status: number; json: any }, message: string | RegExp, account = alice) {
    expect(response.status).toBe(400);
    expect(response.json).toEqual(error(message));
  }

  describe("sendCalls", () => {
    let before: number;
    beforeEach(async () => {
      before = (await callsOf(alice)).length;
    });
    const nothingCreated = async () => expect((await callsOf(alice)).length).toBe(before);

    it("sends READY calls in one new batch, from the first verified caller ID, answering CallList", async () => {
      const { status, json } = await sendCalls(app, alice, [
        { phoneNumber: "12135551100", liveMessage: "Why hello there!" },
        { phoneNumber: "2135551101", liveMessage: "And hello to you too.", fromNumber: "+13105551189", attributes: { order: "42" } },
      ]);
      expect(status).toBe(200);
      const [first, second] = json.items;
      expect(json.items).toHaveLength(2);
      expect(first).toEqual({
        id: expect.any(Number),
        fromNumber: callerId,
        toNumber: "12135551100",
        state: "READY",
        batchId: expect.any(Number),
        inbound: false,
        created: clock.now(),
        modified: clock.now(),
        agentCall: false,
      });
      expect(second).toMatchObject({ fromNumber: "13105551189", toNumber: "12135551101", batchId: first.batchId, attributes: { order: "42" } });
      const again = await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessage: "Once more" }]);
      expect(again.json.items[0].batchId).toBeGreaterThan(first.batchId);
      const batch = await call(app, "GET", `/v2/calls?batchId=${first.batchId}`, { auth: alice.api });
      expect(batch.json.items.map((c: any) => c.id)).toEqual([second.id, first.id]);
    });

    it("refuses an account with no verified caller ID: verify a caller ID first", async () => {
      const carol = await createTestAccount(app);
      await addCredits(app, carol, 100);
      const response = await sendCalls(app, carol, [{ phoneNumber: "12135551100", liveMessage: "hi" }]);
      await expectRefused(response, /^verify a caller ID first/);
      expect((await callsOf(carol)).length).toBe(0);
    });

    it("refuses a fromNumber that is not one of the account's verified caller IDs, naming the recipient", async () => {
      const response = await sendCalls(app, alice, [
        { phoneNumber: "12135551100", liveMessage: "hi" },
        { phoneNumber: "12135551101", liveMessage: "hi", fromNumber: "12135559999" },
      ]);
      await expectRefused(response, "body[1].fromNumber: 12135559999 is not a verified caller ID of this account (see getCallerIds)");
      await nothingCreated();
    });

    it("refuses an invalid phone number, naming the recipient, and sends none", async () => {
      const response = await sendCalls(app, alice, [
        { phoneNumber: "12135551100", liveMessage: "hi" },
        { phoneNumber: "12135551100", liveMessage: "hi" },
        { phoneNumber: "555-FLOWERS", liveMessage: "hi" },
      ]);
      await expectRefused(response, `body[2].phoneNumber: "555-FLOWERS" is not a phone number: ${expectedNumber}`);
      await nothingCreated();
      await expectRefused(await sendCalls(app, alice, [{ liveMessage: "hi" }]), "body[0].phoneNumber: is required");
    });

    it("refuses more than 1,000 recipients, and none", async () => {
      const many = Array.from({ length: 1001 }, () => ({ phoneNumber: "12135551100", liveMessage: "hi" }));
      await expectRefused(await sendCalls(app, alice, many), "body: at most 1000 recipients per request, not 1001");
      await expectRefused(await sendCalls(app, alice, []), "body: send an array of at least one recipient");
      await nothingCreated();
    });

    it("refuses a call with nothing to say, and takes the query's defaults", async () => {
      await expectRefused(
        await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessage: "hi" }, { phoneNumber: "12135551101" }]),
        /^body\[1\]\.liveMessage: a call needs something to say: liveMessage or liveMessageSoundId/,
      );
      await nothingCreated();
      const { status } = await sendCalls(app, alice, [{ phoneNumber: "12135551101" }], `?defaultLiveMessageSoundId=${aliceSound}`);
      expect(status).toBe(200);
      const { status: spoken } = await sendCalls(app, alice, [{ phoneNumber: "12135551101" }], "?defaultLiveMessage=Hello%20there&defaultVoice=FEMALE2");
      expect(spoken).toBe(200);
    });

    it("refuses another account's sound exactly as a missing one", async () => {
      const foreign = await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessageSoundId: bobSound }]);
      const missing = await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessageSoundId: 999_999 }]);
      await expectRefused(foreign, `body[0].liveMessageSoundId: media ${bobSound} not found`);
      await expectRefused(missing, "body[0].liveMessageSoundId: media 999999 not found");
      await expectRefused(
        await sendCalls(app, alice, [{ phoneNumber: "12135551100" }], `?defaultLiveMessageSoundId=${bobSound}`),
        `query parameter defaultLiveMessageSoundId: media ${bobSound} not found`,
      );
      await nothingCreated();
    });

    it("refuses media that is not a sound", async () => {
      await expectRefused(
        await sendCalls(app, alice, [{ phoneNumber: "12135551100", machineMessageSoundId: aliceImage, liveMessage: "hi" }]),
        `body[0].machineMessageSoundId: media ${aliceImage} is image/png, not a sound (mp3, wav or m4a)`,
      );
      await nothingCreated();
    });

    it("refuses a voice outside CallFire's enum", async () => {
      const response = await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessage: "hi", voice: "ROBOT" }]);
      expect(response.status).toBe(400);
      expect(response.json.message).toMatch(/^body 0\.voice: must be equal to one of the allowed values/);
      const query = await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessage: "hi" }], "?defaultVoice=ROBOT");
      expect(query.status).toBe(400);
      await nothingCreated();
    });

    it("refuses contacts and IVR dialplans, which it does not keep", async () => {
      await expectRefused(await sendCalls(app, alice, [{ contactId: 7, liveMessage: "hi" }]), "body[0].contactId: contacts are not kept here; give the phoneNumber to call");
      await expectRefused(
        await sendCalls(app, alice, [{ phoneNumber: "12135551100", dialplanXml: "<dialplan/>" }]),
        "body[0].dialplanXml: IVR dialplans are not supported; give liveMessage or liveMessageSoundId",
      );
      await nothingCreated();
    });

    it("refuses an account whose credits cannot cover a minute per call, counting its unfinished calls", async () => {
      const carol = await createTestAccount(app);
      await verifyCallerId(app, carol, callerId);
      const one = [{ phoneNumber: "12135551100", liveMessage: "hi" }];
      await expectRefused(await sendCalls(app, carol, one), "insufficient credits: 1 call minute(s) (these calls and the unfinished ones) need 1 credits up front, and 0 are left");
      await addCredits(app, carol, 2);
      expect((await sendCalls(app, carol, [...one, ...one])).status).toBe(200);
      // Nothing is charged yet, but the two calls not finished hold their minute each.
      expect((await call(app, "GET", "/v2/me/billing/plan-usage", { auth: carol.api })).json.totalRemainingCredits).toBe(2);
      await expectRefused(await sendCalls(app, carol, one), "insufficient credits: 3 call minute(s) (these calls and the unfinished ones) need 3 credits up front, and 2 are left");
      expect((await callsOf(carol)).length).toBe(2);
    });

    it("answers a retry with the same Idempotency-Key and body with the first response, and sends nothing more", async () => {
      const body = [{ phoneNumber: "12135551100", liveMessage: "only once" }];
      const headers = { "idempotency-key": "order-7-reminder" };
      const first = await sendCalls(app, alice, body, "", headers);
      clock.advance(1000);
      const retry = await sendCalls(app, alice, body, "", headers);
      expect(first.status).toBe(200);
      expect(retry.status).toBe(200);
      expect(retry.json).toEqual(first.json);
      expect((await callsOf(alice)).length).toBe(before + 1);

      const other = await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessage: "something else" }], "", headers);
      expect(other.status).toBe(409);
      expect(other.json).toEqual({ httpStatusCode: 409, internalCode: 0, message: "Idempotency-Key order-7-reminder was already used for another sendCalls request" });
      const otherQuery = await sendCalls(app, alice, body, "?campaignId=5", headers);
      expect(otherQuery.status).toBe(409);
      // Keys are per account.
      await verifyCallerId(app, bob, callerId);
      await addCredits(app, bob, 10);
      expect((await sendCalls(app, bob, body, "", headers)).json.items[0].id).not.toBe(first.json.items[0].id);
      // After 24 hours the key is free again, and the delivery worker's pass forgets it.
      clock.advance(24 * 60 * 60_000);
      app.services.callDelivery.start();
      await app.services.callDelivery.stop();
      const kept = await app.database.db.selectFrom("idempotency_key").select("account_id").where("key", "=", "order-7-reminder").execute();
      expect(kept).toEqual([]);
      const later = await sendCalls(app, alice, body, "", headers);
      expect(later.json.items[0].id).not.toBe(first.json.items[0].id);
      expect((await callsOf(alice)).length).toBe(before + 2);
    });

    it("creates once for concurrent requests with one Idempotency-Key", async () => {
      const body = [{ phoneNumber: "12135551100", liveMessage: "concurrently" }];
      const responses = await Promise.all(Array.from({ length: 8 }, () => sendCalls(app, alice, body, "", { "idempotency-key": "burst" })));
      expect(new Set(responses.map((r) => r.status))).toEqual(new Set([200]));
      expect(new Set(responses.map((r) => r.json.items[0].id)).size).toBe(1);
      expect((await callsOf(alice)).length).toBe(before + 1);
    });

    it("leaves the caller-ID verification throttles to verification calls", async () => {
      const carol = await createTestAccount(app);
      await verifyCallerId(app, carol, callerId);
      await addCredits(app, carol, 100);
      // More calls to one number in a minute than the throttles allow verification calls, per number and per hour.
      const many = Array.from({ length: 25 }, () => ({ phoneNumber: "13105551234", liveMessage: "hi" }));
      expect((await sendCalls(app, carol, many)).status).toBe(200);
      expect((await call(app, "POST", "/v2/me/callerids/13105551234", { auth: carol.api })).status).toBe(200);
    });

    it("applies fields to the answer", async () => {
      const { json } = await sendCalls(app, alice, [{ phoneNumber: "12135551100", liveMessage: "hi" }], "?fields=items(toNumber,state)");
      expect(json).toEqual({ items: [{ toNumber: "12135551100", state: "READY" }] });
    });
  });

  describe("sendTexts", () => {
    let before: number;
    beforeEach(async () => {
      before = (await textsOf(alice)).length;
    });
    const nothingCreated = async () => expect((await textsOf(alice)).length).toBe(before);

    it("sends READY texts with their media, as Media objects or bare ids", async () => {
      const { status, json } = await sendTexts(app, alice, [
        { phoneNumber: "12135551100", message: "Hello World!" },
        { phoneNumber: "12135551101", media: [{ id: aliceImage }] },
        { phoneNumber: "12135551102", message: "with a picture", media: [aliceImage] },
      ]);
      expect(status).toBe(200);
      expect(json.items[0]).toEqual({
        id: expect.any(Number),
        fromNumber: callerId,
        toNumber: "12135551100",
        state: "READY",
        batchId: expect.any(Number),
        inbound: false,
        created: clock.now(),
        modified: clock.now(),
        message: "Hello World!",
      });
      expect(json.items[1].media).toEqual([
        expect.objectContaining({ id: aliceImage, name: "logo", mediaType: "image/png", publicUrl: expect.stringMatching(/\/v2\/media\/public\/[\w-]{22}\.png$/) }),
      ]);
      expect(json.items[2]).toMatchObject({ message: "with a picture", media: [{ id: aliceImage }] });
    });

    it("refuses a text with nothing to send, and takes the query's defaultMessage", async () => {
      await expectRefused(await sendTexts(app, alice, [{ phoneNumber: "12135551100" }]), /^body\[0\]\.message: a text needs a message or media/);
      await nothingCreated();
      expect((await sendTexts(app, alice, [{ phoneNumber: "12135551100" }], "?defaultMessage=Hi")).json.items[0].message).toBe("Hi");
    });

    it("refuses an empty message and one longer than ten segments", async () => {
      const empty = await sendTexts(app, alice, [{ phoneNumber: "12135551100", message: "" }]);
      expect(empty.status).toBe(400);
      expect(empty.json.message).toBe("body 0.message: must NOT have fewer than 1 characters");
      const long = await sendTexts(app, alice, [{ phoneNumber: "12135551100", message: "x".repeat(1531) }]);
      expect(long.status).toBe(400);
      await nothingCreated();
    });

    it("refuses another account's media exactly as missing media", async () => {
      const bobImage = (await upload(app, bob.api, fixture("image.gif"), { name: "bob's" })).json.id;
      await expectRefused(await sendTexts(app, alice, [{ phoneNumber: "12135551100", media: [{ id: bobImage }] }]), `body[0].media[0]: media ${bobImage} not found`);
      await expectRefused(await sendTexts(app, alice, [{ phoneNumber: "12135551100", media: [{}] }]), /^body\[0\]\.media\[0\]\.id: is required/);
      await nothingCreated();
    });

    it("refuses a number that is not valid, and a fromNumber not verified", async () => {
      await expectRefused(
        await sendTexts(app, alice, [{ phoneNumber: "12135551100", message: "a" }, { phoneNumber: "1", message: "b" }]),
        `body[1].phoneNumber: "1" is not a valid phone number: ${expectedNumber}`,
      );
      await expectRefused(
        await sendTexts(app, alice, [{ phoneNumber: "12135551100", message: "a", fromNumber: "67076" }]),
        `body[0].fromNumber: "67076" is not a valid phone number: ${expectedNumber}`,
      );
      await nothingCreated();
    });

    it("counts a long message's 153-character segments against the credits", async () => {
      const carol = await createTestAccount(app);
      await verifyCallerId(app, carol, callerId);
      await addCredits(app, carol, 2);
      const long = "y".repeat(161);
      expect((await sendTexts(app, carol, [{ phoneNumber: "12135551100", message: "x".repeat(160) }])).status).toBe(200);
      await expectRefused(await sendTexts(app, carol, [{ phoneNumber: "12135551100", message: long }]), "insufficient credits: 3 text(s) (these texts' segments and the unfinished ones') need 3 credits up front, and 2 are left");
    });

    it("answers a retried request with the same Idempotency-Key once", async () => {
      const body = [{ phoneNumber: "12135551100", message: "once" }];
      const first = await sendTexts(app, alice, body, "", { "idempotency-key": "t-1" });
      const retry = await sendTexts(app, alice, body, "", { "idempotency-key": "t-1" });
      expect(retry.json).toEqual(first.json);
      expect((await sendTexts(app, alice, [{ phoneNumber: "12135551100", message: "twice" }], "", { "idempotency-key": "t-1" })).status).toBe(409);
      expect((await textsOf(alice)).length).toBe(before + 1);
    });
  });

  it("needs credentials", async () => {
    expect((await call(app, "POST", "/v2/calls", { body: [] })).status).toBe(401);
    expect((await call(app, "GET", "/v2/texts")).status).toBe(401);
  });
});
