import { afterAll, beforeAll, expect, it } from "vitest";
import { call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { admin, ingestCall, uploadRecording } from "./support/calls.js";
import { fixture } from "./support/media.js";
import { populate, rowsOf, storedBlobs, type Populated } from "./support/operator.js";

// The operator's lists and deletions of calls, recordings, texts and media, over /admin/v1.

const page = { limit: expect.any(Number), offset: expect.any(Number), totalCount: expect.any(Number) };

describeEachDialect("operator API: calls, recordings, texts and media", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  let bob: TestAccount;
  let aliceStuff: Populated;
  let bobStuff: Populated;

  beforeAll(async () => {
    app = await startTestApp(dialect);
    alice = await createTestAccount(app);
    bob = await createTestAccount(app);
    aliceStuff = await populate(app, alice);
    bobStuff = await populate(app, bob);
  });
  afterAll(() => app.close());

  it("lists calls newest first, by account, state and start time, in pages", async () => {
    const old = (await ingestCall(app, alice.id, { startTime: Date.parse("2026-01-01T00:00:00Z"), durationSeconds: 30 })).json;
    const all = await admin(app, "GET", "/calls");
    expect(all.status).toBe(200);
    expect(all.json).toEqual({ items: expect.any(Array), limit: 100, offset: 0, totalCount: 3 });
    expect(all.json.items.map((c: { id: number }) => c.id)).toEqual([old.id, bobStuff.callId, aliceStuff.callId]);
    expect(all.json.items[0]).toMatchObject({ id: old.id, accountId: alice.id, state: "FINISHED", result: "LA", durationSeconds: 30, charge: { minutes: 1 } });

    const ids = async (query: string) => (await admin(app, "GET", `/calls?${query}`)).json.items.map((c: { id: number }) => c.id);
    expect(await ids(`accountId=${alice.id}`)).toEqual([old.id, aliceStuff.callId]);
    expect(await ids(`accountId=${bob.id}`)).toEqual([bobStuff.callId]);
    expect(await ids(`intervalEnd=${Date.parse("2026-01-02T00:00:00Z")}`)).toEqual([old.id]);
    expect(await ids(`intervalBegin=${Date.parse("2026-01-01T00:00:00Z")}&intervalEnd=${Date.parse("2026-01-01T00:00:00Z") + 1}`)).toEqual([old.id]);
    expect(await ids(`intervalBegin=${Date.parse("2026-01-02T00:00:00Z")}&accountId=${alice.id}`)).toEqual([aliceStuff.callId]);
    expect(await ids("state=FINISHED&limit=1&offset=1")).toEqual([bobStuff.callId]);
    expect(await ids("state=READY")).toEqual([]);
    expect((await admin(app, "GET", "/calls?limit=2")).json).toMatchObject({ limit: 2, offset: 0, totalCount: 3 });

    await admin(app, "DELETE", `/calls/${old.id}`);
  });

  it("lists and gets recordings, by account and call", async () => {
    const all = await admin(app, "GET", "/recordings");
    expect(all.json).toEqual({ items: [expect.objectContaining({ id: bobStuff.recordingId, accountId: bob.id }), expect.objectContaining({ id: aliceStuff.recordingId })], ...page });
    const one = await admin(app, "GET", `/recordings/${aliceStuff.recordingId}`);
    expect(one.json).toEqual({
      id: aliceStuff.recordingId,
      accountId: alice.id,
      callId: aliceStuff.callId,
      name: "greeting",
      created: expect.any(Number),
      lengthInBytes: expect.any(Number),
      lengthInSeconds: 1,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      mp3Url: `${app.baseUrl}/v2/calls/recordings/${aliceStuff.recordingId}.mp3`,
      state: "READY",
    });
    expect((await admin(app, "GET", `/recordings?accountId=${alice.id}`)).json.items).toEqual([one.json]);
    expect((await admin(app, "GET", `/recordings?callId=${bobStuff.callId}`)).json.items.map((r: { id: number }) => r.id)).toEqual([bobStuff.recordingId]);
    expect((await admin(app, "GET", `/recordings?callId=${bobStuff.callId}&accountId=${alice.id}`)).json).toEqual({ items: [], limit: 100, offset: 0, totalCount: 0 });
    expect((await admin(app, "GET", "/recordings/999999")).status).toBe(404);
  });

  it("lists media and texts of every account or one", async () => {
    const media = await admin(app, "GET", `/media?accountId=${alice.id}`);
    expect(media.json).toEqual({
      items: [{ id: aliceStuff.mediaId, accountId: alice.id, name: "tone.mp3", created: expect.any(Number), lengthInBytes: expect.any(Number), mediaType: "audio/mp3", publicUrl: `${app.baseUrl}${aliceStuff.publicUrl}` }],
      limit: 100,
      offset: 0,
      totalCount: 1,
    });
    expect((await admin(app, "GET", "/media")).json.items.map((m: { id: number }) => m.id)).toEqual([bobStuff.mediaId, aliceStuff.mediaId]);
    expect((await admin(app, "GET", `/media/${bobStuff.mediaId}`)).json).toMatchObject({ id: bobStuff.mediaId, accountId: bob.id });

    const texts = await admin(app, "GET", `/texts?accountId=${bob.id}`);
    expect(texts.json).toEqual({ items: [expect.objectContaining({ id: bobStuff.textId, accountId: bob.id, message: "hello", mediaIds: [bobStuff.mediaId] })], limit: 100, offset: 0, totalCount: 1 });
    expect((await admin(app, "GET", "/texts?state=FINISHED")).json.totalCount).toBe(2);
    expect((await admin(app, "GET", `/texts?intervalEnd=1`)).json.items).toEqual([]);
  });

  it("refuses bad filters with a 400 ErrorMessage", async () => {
    for (const path of ["/calls?state=DONE", "/calls?accountId=0", "/calls?intervalBegin=-1", "/calls?limit=0", "/recordings?callId=x", "/media?accountId=1.5", "/texts?intervalEnd=soon"]) {
      const refused = await admin(app, "GET", path);
      expect(refused.status, path).toBe(400);
      expect(refused.json, path).toEqual({ httpStatusCode: 400, internalCode: expect.any(Number), message: expect.any(String) });
    }
  });

  it("deletes a recording and its MP3, keeping the call and its charge", async () => {
    const call1 = (await ingestCall(app, alice.id, { durationSeconds: 125 })).json;
    const recorded = await uploadRecording(app, "POST", `/calls/${call1.id}/recordings`, fixture("tone.mp3"), { name: "one" });
    const [key] = (await app.database.db.selectFrom("call_recording").select("blob_key").where("id", "=", recorded.json.id).execute()).map((r) => r.blob_key!);
    const bobBefore = await rowsOf(app.database.db, bob.id);

    const deleted = await admin(app, "DELETE", `/recordings/${recorded.json.id}`);
    expect(deleted.status).toBe(204);
    expect(await storedBlobs(app, [key!])).toEqual([]);
    expect((await admin(app, "GET", `/recordings/${recorded.json.id}`)).status).toBe(404);
    expect((await call(app, "GET", `/v2/calls/recordings/${recorded.json.id}.mp3`, { auth: alice.api })).status).toBe(404);
    expect((await admin(app, "GET", `/calls/${call1.id}`)).json).toMatchObject({ id: call1.id, charge: { minutes: 3 } });
    expect((await admin(app, "DELETE", `/recordings/${recorded.json.id}`)).status).toBe(404);
    expect(await rowsOf(app.database.db, bob.id)).toEqual(bobBefore);
  });

  it("deletes a call with its recordings and their MP3s, keeping what it was charged", async () => {
    const creditUsage = async () => {
      const { intervalEnd: _now, ...usage } = (await call(app, "GET", "/v2/me/billing/credit-usage", { auth: alice.login })).json;
      return usage;
    };
    const usageBefore = await creditUsage();
    const ingested = (await ingestCall(app, alice.id, { durationSeconds: 61 })).json;
    await uploadRecording(app, "POST", `/calls/${ingested.id}/recordings`, fixture("tone.mp3"), { name: "a" });
    await uploadRecording(app, "POST", `/calls/${ingested.id}/recordings`, fixture("tone.wav"), { name: "b" });
    const keys = (await app.database.db.selectFrom("call_recording").select("blob_key").where("call_id", "=", ingested.id).execute()).map((r) => r.blob_key!);
    expect(await storedBlobs(app, keys)).toHaveLength(2);
    const usage = await creditUsage();
    const bobBefore = await rowsOf(app.database.db, bob.id);

    expect((await admin(app, "DELETE", `/calls/${ingested.id}`)).status).toBe(204);
    expect(await storedBlobs(app, keys)).toEqual([]);
    expect(await app.database.db.selectFrom("call_recording").select("id").where("call_id", "=", ingested.id).execute()).toEqual([]);
    expect(await app.database.db.selectFrom("call_label").select("label").where("call_id", "=", ingested.id).execute()).toEqual([]);
    expect((await admin(app, "GET", `/calls/${ingested.id}`)).status).toBe(404);
    expect((await call(app, "GET", `/v2/calls/${ingested.id}`, { auth: alice.api })).status).toBe(404);
    // The charge stays: the account's usage is what it was with the call.
    expect(await creditUsage()).toEqual(usage);
    expect(usage).not.toEqual(usageBefore);
    expect(await rowsOf(app.database.db, bob.id)).toEqual(bobBefore);

    const again = await admin(app, "DELETE", `/calls/${ingested.id}`);
    expect(again.json).toEqual({ httpStatusCode: 404, internalCode: expect.any(Number), message: `call ${ingested.id} not found` });
  });

  it("deletes a sent call's queued delivery with it", async () => {
    const sent = await app.database.db
      .insertInto("call")
      .values({ account_id: alice.id, from_number: "12135551189", to_number: "13105550100", start_time: Date.now(), duration_seconds: 0, campaign_id: null, external_id: null, created: Date.now(), modified: Date.now(), state: "READY", batch_id: null, script: null, attributes: null, labels: null, final_result: null, finish_time: null, caller_name: null })
      .returning("id")
      .executeTakeFirstOrThrow();
    await app.database.db
      .insertInto("call_outbox")
      .values({ call_id: `call-${sent.id}`, type: "call", action_id: sent.id, payload: null, account_id: alice.id, to_number: "13105550100", code: null, message: null, code_expires_at: null, status: "PENDING", attempts: 0, last_error: null, next_attempt_at: Date.now() + 3_600_000, created: Date.now(), updated: Date.now() })
      .execute();
    expect((await admin(app, "GET", `/calls?state=READY`)).json.items.map((c: { id: number }) => c.id)).toEqual([sent.id]);
    expect((await admin(app, "DELETE", `/calls/${sent.id}`)).status).toBe(204);
    expect(await app.database.db.selectFrom("call_outbox").select("id").where("type", "=", "call").where("action_id", "=", sent.id).execute()).toEqual([]);
  });

  it("deletes a text, keeping its charge", async () => {
    const text = (await admin(app, "POST", `/accounts/${alice.id}/texts`, { fromNumber: "12135551189", toNumber: "13105550100", message: "bye", labels: ["x"] })).json;
    const charge = await app.database.db.selectFrom("usage_charge").selectAll().where("text_id", "=", text.id).executeTakeFirstOrThrow();
    expect((await admin(app, "DELETE", `/texts/${text.id}`)).status).toBe(204);
    expect((await admin(app, "GET", `/texts/${text.id}`)).status).toBe(404);
    expect(await app.database.db.selectFrom("text_label").select("label").where("text_id", "=", text.id).execute()).toEqual([]);
    expect(await app.database.db.selectFrom("usage_charge").selectAll().where("id", "=", charge.id).executeTakeFirst()).toEqual({ ...charge, text_id: null });
    expect((await admin(app, "DELETE", `/texts/${text.id}`)).status).toBe(404);
  });

  it("deletes media with its renditions and blobs: its public URL answers 404, the other account's media stays", async () => {
    const keys = (await app.database.db.selectFrom("media").select("blob_key").where("id", "=", aliceStuff.mediaId).execute()).map((r) => r.blob_key);
    const renditions = (await app.database.db.selectFrom("media_rendition").select("blob_key").where("media_id", "=", aliceStuff.mediaId).execute()).map((r) => r.blob_key);
    expect(renditions).toHaveLength(1);
    expect((await fetch(`${app.baseUrl}${aliceStuff.publicUrl}`)).status).toBe(200);
    const bobBefore = await rowsOf(app.database.db, bob.id);

    expect((await admin(app, "DELETE", `/media/${aliceStuff.mediaId}`)).status).toBe(204);
    expect(await storedBlobs(app, [...keys, ...renditions])).toEqual([]);
    const gone = await fetch(`${app.baseUrl}${aliceStuff.publicUrl}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ httpStatusCode: 404, internalCode: expect.any(Number), message: expect.any(String) });
    expect((await call(app, "GET", `/v2/media/${aliceStuff.mediaId}`, { auth: alice.api })).status).toBe(404);
    // The text that carried it is still there, without it.
    expect((await admin(app, "GET", `/texts/${aliceStuff.textId}`)).json).not.toHaveProperty("mediaIds");
    expect((await admin(app, "GET", `/media/${aliceStuff.mediaId}`)).status).toBe(404);
    expect((await admin(app, "DELETE", `/media/${aliceStuff.mediaId}`)).status).toBe(404);

    expect(await rowsOf(app.database.db, bob.id)).toEqual(bobBefore);
    expect((await fetch(`${app.baseUrl}${bobStuff.publicUrl}`)).status).toBe(200);
  });

  it("answers a malformed id 400 and an unknown one 404 on every delete, changing nothing", async () => {
    const before = [await rowsOf(app.database.db, alice.id), await rowsOf(app.database.db, bob.id)];
    for (const kind of ["calls", "recordings", "texts", "media"]) {
      for (const id of ["0", "x", "1.5", "9007199254740993"]) {
        const refused = await admin(app, "DELETE", `/${kind}/${id}`);
        expect(refused.status, `${kind}/${id}`).toBe(400);
        expect(refused.json).toMatchObject({ httpStatusCode: 400 });
      }
      const missing = await admin(app, "DELETE", `/${kind}/987654`);
      expect(missing.status).toBe(404);
      expect(missing.json).toMatchObject({ httpStatusCode: 404 });
    }
    expect([await rowsOf(app.database.db, alice.id), await rowsOf(app.database.db, bob.id)]).toEqual(before);
  });

  it("answers a repeated recording upload with the same file as the first (200), and another file under its name 409", async () => {
    const ingested = (await ingestCall(app, bob.id, { externalId: "pbx-retry" })).json;
    const first = await uploadRecording(app, "POST", `/calls/${ingested.id}/recordings`, fixture("tone.wav"), { name: "take" });
    expect(first.status).toBe(201);
    const again = await uploadRecording(app, "POST", `/calls/${ingested.id}/recordings`, fixture("tone.wav"), { name: "take" });
    expect(again).toEqual({ status: 200, json: first.json });
    const other = await uploadRecording(app, "POST", `/calls/${ingested.id}/recordings`, fixture("tone.mp3"), { name: "take" });
    expect(other.status).toBe(409);
    expect(other.json).toMatchObject({ httpStatusCode: 409, message: `call ${ingested.id} already has a recording named "take"` });
    // Only the first upload's MP3 is stored.
    const keys = (await app.database.db.selectFrom("call_recording").select("blob_key").where("call_id", "=", ingested.id).execute()).map((r) => r.blob_key!);
    const recordingBlobs: string[] = [];
    for await (const blob of app.blobs.list("recordings/")) recordingBlobs.push(blob.key);
    const referenced = (await app.database.db.selectFrom("call_recording").select("blob_key").execute()).map((r) => r.blob_key);
    expect(recordingBlobs.sort()).toEqual(referenced.filter((key): key is string => key !== null).sort());
    expect(keys).toHaveLength(1);
  });
});
