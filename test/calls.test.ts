import { createHash } from "node:crypto";
import { fileTypeFromBuffer } from "file-type";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { call, createTestAccount, describeEachDialect, startTestApp, type DialectName, type TestAccount, type TestApp } from "./support/app.js";
import { admin, ingestCall, uploadRecording } from "./support/calls.js";
import { blobFiles, download, fixture } from "./support/media.js";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const expectedNumber = "expected E.164 digits with or without +, such as 12135551189 or +442079460958 (a bare 10-digit number is North American)";

/** A database that fails every update of a recording, as a full disk or a lost connection would. */
async function refuseRecordingUpdates(app: TestApp, dialect: DialectName): Promise<void> {
  const statements =
    dialect === "sqlite"
      ? ["create trigger refuse_recording_update before update on call_recording begin select raise(abort, 'refused by the test'); end"]
      : [
          "create function refuse_recording_update() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$",
          "create trigger refuse_recording_update before update on call_recording for each row execute function refuse_recording_update()",
        ];
  for (const statement of statements) await sql.raw(statement).execute(app.database.db);
}

async function allowRecordingUpdates(app: TestApp, dialect: DialectName): Promise<void> {
  const statements =
    dialect === "sqlite"
      ? ["drop trigger refuse_recording_update"]
      : ["drop trigger refuse_recording_update on call_recording", "drop function refuse_recording_update()"];
  for (const statement of statements) await sql.raw(statement).execute(app.database.db);
}

describeEachDialect("calls and call recordings", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  let bob: TestAccount;

  beforeAll(async () => {
    app = await startTestApp(dialect);
    alice = await createTestAccount(app);
    bob = await createTestAccount(app);
  });
  afterAll(() => app.close());

  const newCall = async (account: TestAccount, fields: Record<string, unknown> = {}): Promise<number> => {
    const { status, json } = await ingestCall(app, account.id, fields);
    expect(status).toBe(201);
    return json.id;
  };
  const attach = (callId: number, name: string, bytes: Uint8Array) => uploadRecording(app, "POST", `/calls/${callId}/recordings`, bytes, { name });
  const recordingBlobs = () => blobFiles(app).filter((file) => file.startsWith("recordings"));

  describe("call ingest (operator)", () => {
    it("records a finished call and charges its started minutes", async () => {
      const startTime = Date.now();
      const { status, json } = await ingestCall(app, alice.id, { fromNumber: "+12135551189", toNumber: "3105550100", startTime, durationSeconds: 61, campaignId: 15 });
      expect(status).toBe(201);
      expect(json).toEqual({
        id: expect.any(Number),
        accountId: alice.id,
        fromNumber: "12135551189",
        toNumber: "13105550100",
        inbound: false,
        state: "FINISHED",
        result: "LA",
        startTime,
        durationSeconds: 61,
        finishTime: startTime + 61_000,
        campaignId: 15,
        created: expect.any(Number),
        modified: json.created,
        charge: { minutes: 2, credits: 2, planCredits: 0, payAsYouGoCredits: 2 },
      });
    });

    it.each([
      ["a negative duration", { durationSeconds: -1 }, "durationSeconds: must be a whole number of seconds from 0 to 86400"],
      ["a duration over a day", { durationSeconds: 86_401 }, "durationSeconds: must be a whole number of seconds from 0 to 86400"],
      ["a fractional duration", { durationSeconds: 1.5 }, "body durationSeconds: must be integer"],
      ["a start time in the future", { startTime: 4_102_444_800_000 }, "startTime: 4102444800000 is in the future"],
      ["a start time in seconds", { startTime: 1_764_300_000 }, "startTime: 1764300000 is before 2000-01-01; times are unix milliseconds"],
      ["a start time that is not a number", { startTime: "yesterday" }, "body startTime: must be integer"],
      ["a number with letters", { toNumber: "1-800-FLOWERS" }, `toNumber: "1-800-FLOWERS" is not a phone number: ${expectedNumber}`],
      ["a North American number that does not exist", { fromNumber: "0005551189" }, `fromNumber: "0005551189" is not a valid phone number: ${expectedNumber}`],
      ["no fromNumber", { fromNumber: undefined }, "body field fromNumber: is required"],
      ["an unknown field", { cost: 3 }, "body: unknown field cost"],
    ])("refuses %s with 400 and charges nothing", async (_label, fields, message) => {
      const carol = await createTestAccount(app);
      const { status, json } = await ingestCall(app, carol.id, fields);
      expect(status).toBe(400);
      expect(json).toEqual({ httpStatusCode: 400, internalCode: 0, message: typeof message === "string" ? message : expect.stringMatching(message) });
      const usage = await call(app, "GET", "/v2/me/billing/credit-usage?intervalBegin=0", { auth: carol.api });
      expect(usage.json).toMatchObject({ callsDurationMinutes: 0, creditsUsed: 0 });
    });

    it("records a call that started before its account was created: a platform's history, backfilled", async () => {
      const carol = await createTestAccount(app);
      const startTime = 946_684_800_000; // 2000-01-01, the earliest time taken
      const { status, json } = await ingestCall(app, carol.id, { startTime, durationSeconds: 61 });
      expect(status).toBe(201);
      expect(json).toMatchObject({ startTime, charge: { minutes: 2, credits: 2 } });
      const usage = await call(app, "GET", "/v2/me/billing/credit-usage", { auth: carol.api });
      expect(usage.json).toMatchObject({ intervalBegin: startTime, callsDurationMinutes: 2, creditsUsed: 2 });
    });

    it("answers 404 for an unknown account and 401 without the operator token", async () => {
      expect((await ingestCall(app, 999_999)).json).toEqual({ httpStatusCode: 404, internalCode: 0, message: "account 999999 not found" });
      const { status } = await call(app, "POST", `/admin/v1/accounts/${alice.id}/calls`, { body: {}, headers: { authorization: alice.api } });
      expect(status).toBe(401);
    });

    it("answers a retry with the same externalId with the first call, charged once", async () => {
      const carol = await createTestAccount(app);
      const fields = { externalId: "asterisk-1700000000.42", startTime: Date.now(), durationSeconds: 125 };
      const first = await ingestCall(app, carol.id, fields);
      const retry = await ingestCall(app, carol.id, fields);
      expect(first.status).toBe(201);
      expect(retry.status).toBe(200);
      expect(retry.json).toEqual(first.json);
      expect(first.json).toMatchObject({ externalId: "asterisk-1700000000.42", charge: { minutes: 3, credits: 3 } });

      const other = await ingestCall(app, carol.id, { ...fields, durationSeconds: 126 });
      expect(other.status).toBe(409);
      expect(other.json.message).toBe(`externalId asterisk-1700000000.42 was already used for call ${first.json.id}, with other details`);

      // Keys are per account: another account's call with the same key is its own.
      expect((await ingestCall(app, bob.id, fields)).status).toBe(201);
      const usage = await call(app, "GET", "/v2/me/billing/credit-usage?intervalBegin=0", { auth: carol.api });
      expect(usage.json).toMatchObject({ callsDurationMinutes: 3, creditsUsed: 3 });
    });
  });

  describe("recording ingest (operator)", () => {
    it("converts an 8 kHz mono WAV to MP3 before the recording is READY", async () => {
      const callId = await newCall(alice, { campaignId: 7 });
      const { status, json } = await attach(callId, "telephony", fixture("tone.wav"));
      expect(status).toBe(201);
      const mp3 = await download(app, `/v2/calls/recordings/${json.id}.mp3`, { authorization: alice.api });
      expect(mp3.status).toBe(200);
      expect(await fileTypeFromBuffer(mp3.body)).toEqual({ ext: "mp3", mime: "audio/mpeg" });
      expect(json).toEqual({
        id: expect.any(Number),
        callId,
        campaignId: 7,
        name: "telephony",
        created: expect.any(Number),
        lengthInBytes: mp3.body.length,
        lengthInSeconds: 1,
        hash: sha256(mp3.body),
        mp3Url: `${app.baseUrl}/v2/calls/recordings/${json.id}.mp3`,
        state: "READY",
      });
    });

    it("converts a 44.1 kHz stereo WAV too", async () => {
      const callId = await newCall(alice);
      const { status, json } = await attach(callId, "studio", fixture("tone-44k-stereo.wav"));
      expect(status).toBe(201);
      expect(json).toMatchObject({ state: "READY", lengthInSeconds: 0 });
      const mp3 = await download(app, `/v2/calls/recordings/${json.id}.mp3`, { authorization: alice.api });
      expect(await fileTypeFromBuffer(mp3.body)).toEqual({ ext: "mp3", mime: "audio/mpeg" });
      expect(sha256(mp3.body)).toBe(json.hash);
    });

    it("keeps an MP3 as uploaded", async () => {
      const callId = await newCall(alice);
      const bytes = fixture("tone.mp3");
      const { status, json } = await attach(callId, "as-is", bytes);
      expect(status).toBe(201);
      expect(json).toMatchObject({ state: "READY", lengthInBytes: bytes.length, lengthInSeconds: 1, hash: sha256(bytes) });
      const mp3 = await download(app, `/v2/calls/recordings/${json.id}.mp3`, { authorization: alice.api });
      expect(mp3.body.equals(bytes)).toBe(true);
    });

    it.each([
      ["text", "not-audio.txt", "a call recording must be MP3 or WAV audio"],
      ["M4A audio", "tone.m4a", "a call recording must be MP3 or WAV audio, not m4a"],
      ["an image", "image.png", "a call recording must be MP3 or WAV audio, not png"],
    ])("refuses %s with 400 and keeps nothing", async (_label, file, message) => {
      const callId = await newCall(alice);
      const before = recordingBlobs();
      const { status, json } = await attach(callId, "bad", fixture(file));
      expect(status).toBe(400);
      expect(json).toEqual({ httpStatusCode: 400, internalCode: 0, message });
      expect((await call(app, "GET", `/v2/calls/${callId}/recordings`, { auth: alice.api })).json).toEqual({ items: [] });
      expect(recordingBlobs()).toEqual(before);
    });

    it("refuses an empty file, a file without a name and a name without a file", async () => {
      const callId = await newCall(alice);
      const before = recordingBlobs();
      expect((await attach(callId, "empty", new Uint8Array())).json.message).toBe("the recording file is empty");
      expect((await uploadRecording(app, "POST", `/calls/${callId}/recordings`, fixture("tone.mp3"))).json.message).toBe("the field name is required");
      expect(recordingBlobs()).toEqual(before);
      expect((await uploadRecording(app, "POST", `/calls/${callId}/recordings`, undefined, { name: "no file" })).json.message).toBe(
        "the part named file is required",
      );
      expect((await call(app, "GET", `/v2/calls/${callId}/recordings`, { auth: alice.api })).json).toEqual({ items: [] });
    });

    it("refuses a second recording of the same name on a call with 409", async () => {
      const callId = await newCall(alice);
      const first = await attach(callId, "voicemail", fixture("tone.mp3"));
      const again = await attach(callId, "voicemail", fixture("tone.wav"));
      expect(again.status).toBe(409);
      expect(again.json).toEqual({ httpStatusCode: 409, internalCode: 0, message: `call ${callId} already has a recording named "voicemail"` });
      const listed = await call(app, "GET", `/v2/calls/${callId}/recordings`, { auth: alice.api });
      expect(listed.json.items).toEqual([first.json]);
      // The same name on another call is fine.
      expect((await attach(await newCall(alice), "voicemail", fixture("tone.mp3"))).status).toBe(201);
    });

    it.each([
      ["a name ending in .mp3", "greeting.mp3", 'name: must not end in ".mp3": GET /v2/calls/{id}/recordings/{name}.mp3 downloads the recording named {name}'],
      ["a name with a slash", "a/b", 'name: "a/b" cannot be a URL path segment (no "/", control characters, "." or "..")'],
      ["a name of two dots", "..", 'name: ".." cannot be a URL path segment (no "/", control characters, "." or "..")'],
      ["an empty name", "", "name: must be 1 to 255 characters"],
    ])("refuses %s with 400", async (_label, name, message) => {
      const { status, json } = await admin(app, "POST", `/calls/${await newCall(alice)}/recordings`, { name, state: "RECORDING" });
      expect(status).toBe(400);
      expect(json.message).toBe(message);
    });

    it("answers 404 for a recording of an unknown call", async () => {
      const { status, json } = await attach(999_999, "x", fixture("tone.mp3"));
      expect(status).toBe(404);
      expect(json.message).toBe("call 999999 not found");
    });

    it("creates a recording in progress and completes it with its audio later", async () => {
      const callId = await newCall(alice);
      const created = await admin(app, "POST", `/calls/${callId}/recordings`, { name: "live", state: "RECORDING" });
      expect(created.status).toBe(201);
      const id = created.json.id;
      expect(created.json).toEqual({ id, callId, name: "live", created: expect.any(Number), mp3Url: `${app.baseUrl}/v2/calls/recordings/${id}.mp3`, state: "RECORDING" });

      const early = await download(app, `/v2/calls/recordings/${id}.mp3`, { authorization: alice.api });
      expect(early.status).toBe(404);
      expect(JSON.parse(early.body.toString()).message).toBe(`call recording ${id} is RECORDING: its MP3 is available once it is READY`);

      const completed = await uploadRecording(app, "PUT", `/recordings/${id}/audio`, fixture("tone.wav"));
      expect(completed.status).toBe(200);
      expect(completed.json).toMatchObject({ id, name: "live", state: "READY", lengthInSeconds: 1 });
      expect((await call(app, "GET", `/v2/calls/recordings/${id}`, { auth: alice.api })).json).toEqual(completed.json);

      const twice = await uploadRecording(app, "PUT", `/recordings/${id}/audio`, fixture("tone.mp3"));
      expect(twice.status).toBe(409);
      expect(twice.json.message).toBe(`call recording ${id} is already READY`);
      const error = await admin(app, "PUT", `/recordings/${id}`, { state: "ERROR" });
      expect(error.status).toBe(409);
      expect(error.json.message).toBe(`call recording ${id} is READY: it cannot be marked ERROR`);
    });

    it("marks a recording ERROR, whose MP3 is then 404 naming the state", async () => {
      const callId = await newCall(alice);
      const { json: created } = await admin(app, "POST", `/calls/${callId}/recordings`, { name: "dropped", state: "RECORDING" });
      const marked = await admin(app, "PUT", `/recordings/${created.id}`, { state: "ERROR" });
      expect(marked.status).toBe(200);
      expect(marked.json).toEqual({ ...created, state: "ERROR" });
      const mp3 = await download(app, `/v2/calls/${callId}/recordings/dropped.mp3`, { authorization: alice.api });
      expect(mp3.status).toBe(404);
      expect(JSON.parse(mp3.body.toString()).message).toBe(`call recording ${created.id} is ERROR: its MP3 is available once it is READY`);
      // Audio that turns up after all still completes it.
      expect((await uploadRecording(app, "PUT", `/recordings/${created.id}/audio`, fixture("tone.mp3"))).json.state).toBe("READY");
    });

    it.each([
      ["READY", { name: "x", state: "READY" }, "body state: must be equal to constant"],
      ["no name", { state: "RECORDING" }, "body field name: is required"],
    ])("refuses a JSON recording with %s", async (_label, body, message) => {
      const { status, json } = await admin(app, "POST", `/calls/${await newCall(alice)}/recordings`, body);
      expect(status).toBe(400);
      expect(json.message).toBe(message);
    });

    it("answers 404 for an unknown recording", async () => {
      expect((await admin(app, "PUT", "/recordings/999999", { state: "ERROR" })).json.message).toBe("call recording 999999 not found");
      expect((await uploadRecording(app, "PUT", "/recordings/999999/audio", fixture("tone.mp3"))).json.message).toBe("call recording 999999 not found");
    });

    const wrongBodies: Array<[string, Record<string, string>, string | undefined]> = [
      ["no Content-Type", {}, undefined],
      ["text/plain", { "content-type": "text/plain" }, "name=live"],
      ["application/octet-stream", { "content-type": "application/octet-stream" }, "RIFF"],
    ];
    it.each(
      [
        ["POST /calls/{callId}/recordings", 'send application/json {"name":"…","state":"RECORDING"} for a recording in progress, or multipart/form-data (name and file) for a finished one'],
        ["PUT /recordings/{id}/audio", "send the audio as multipart/form-data, in a part named file"],
        ["PUT /recordings/{id}", 'send application/json {"state":"ERROR"}'],
      ].flatMap(([route, message]) => wrongBodies.map(([label, headers, body]) => [route!, label, headers, body, message!] as const)),
    )("answers %s with %s by 400 saying what to send, and changes nothing", async (route, _label, headers, rawBody, message) => {
      const callId = await newCall(alice);
      const { json: recording } = await admin(app, "POST", `/calls/${callId}/recordings`, { name: "live", state: "RECORDING" });
      const [method, path] = route.replace("{callId}", String(callId)).replace("{id}", recording.id).split(" ") as [string, string];
      const response = await call(app, method, `/admin/v1${path}`, { rawBody, headers: { ...headers, authorization: `Bearer ${app.adminToken}` } });
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ httpStatusCode: 400, internalCode: 0, message });
      expect((await call(app, "GET", `/v2/calls/${callId}/recordings`, { auth: alice.api })).json).toEqual({ items: [recording] });
    });

    it("keeps no MP3 when the database fails to take the recording's audio", async () => {
      const { json: recording } = await admin(app, "POST", `/calls/${await newCall(alice)}/recordings`, { name: "live", state: "RECORDING" });
      const before = recordingBlobs();
      await refuseRecordingUpdates(app, dialect);
      try {
        expect((await uploadRecording(app, "PUT", `/recordings/${recording.id}/audio`, fixture("tone.mp3"))).status).toBe(500);
      } finally {
        await allowRecordingUpdates(app, dialect);
      }
      expect(recordingBlobs()).toEqual(before);
      expect((await call(app, "GET", `/v2/calls/recordings/${recording.id}`, { auth: alice.api })).json.state).toBe("RECORDING");
    });
  });

  describe("recording reads (public)", () => {
    let callId: number;
    let recordings: Record<string, any>;
    const names = ["first take", "v1.2.final", "50% done", "naïve ☎"];

    beforeAll(async () => {
      callId = await newCall(alice, { campaignId: 15 });
      recordings = {};
      for (const name of names) recordings[name] = (await attach(callId, name, fixture("tone.mp3"))).json;
    });

    it("lists a call's recordings in creation order, with API credentials or the login", async () => {
      for (const auth of [alice.api, alice.login]) {
        const { status, json } = await call(app, "GET", `/v2/calls/${callId}/recordings`, { auth });
        expect(status).toBe(200);
        expect(json).toEqual({ items: names.map((name) => recordings[name]) });
      }
      expect(recordings["first take"]).toMatchObject({ callId, campaignId: 15, name: "first take", state: "READY" });
    });

    it("finds a recording by a name with spaces, dots, percent signs and non-ASCII, equal to the same by id", async () => {
      for (const name of names) {
        const byName = await call(app, "GET", `/v2/calls/${callId}/recordings/${encodeURIComponent(name)}`, { auth: alice.api });
        expect(byName.status).toBe(200);
        const byId = await call(app, "GET", `/v2/calls/recordings/${recordings[name].id}`, { auth: alice.api });
        expect(byName.json).toEqual(byId.json);
        expect(byName.json.name).toBe(name);
      }
    });

    it("downloads the MP3 by name and by id, the same bytes, as audio/mpeg", async () => {
      const bytes = fixture("tone.mp3");
      for (const name of names) {
        const byName = await download(app, `/v2/calls/${callId}/recordings/${encodeURIComponent(name)}.mp3`, { authorization: alice.api });
        const byId = await download(app, `/v2/calls/recordings/${recordings[name].id}.mp3`, { authorization: alice.api, accept: "application/json" });
        for (const response of [byName, byId]) {
          expect(response.status).toBe(200);
          expect(response.headers.get("content-type")).toBe("audio/mpeg");
          expect(response.headers.get("etag")).toBe(`"${recordings[name].hash}"`);
          expect(response.body.equals(bytes)).toBe(true);
        }
      }
    });

    it("serves HEAD, ranges and If-None-Match on the MP3", async () => {
      const { id, hash, lengthInBytes } = recordings["v1.2.final"];
      const path = `${app.baseUrl}/v2/calls/recordings/${id}.mp3`;
      const head = await fetch(path, { method: "HEAD", headers: { authorization: alice.api } });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-length")).toBe(String(lengthInBytes));
      expect(head.headers.get("accept-ranges")).toBe("bytes");
      expect(head.headers.get("content-disposition")).toBe(`inline; filename="v1.2.final.mp3"; filename*=UTF-8''v1.2.final.mp3`);

      const range = await download(app, `/v2/calls/recordings/${id}.mp3`, { authorization: alice.api, range: "bytes=0-9" });
      expect(range.status).toBe(206);
      expect(range.headers.get("content-range")).toBe(`bytes 0-9/${lengthInBytes}`);
      expect(range.body.equals(fixture("tone.mp3").subarray(0, 10))).toBe(true);

      const cached = await download(app, `/v2/calls/recordings/${id}.mp3`, { authorization: alice.api, "if-none-match": `"${hash}"` });
      expect(cached.status).toBe(304);
    });

    it("applies fields", async () => {
      const list = await call(app, "GET", `/v2/calls/${callId}/recordings?fields=items(callId)`, { auth: alice.api });
      expect(list.json).toEqual({ items: names.map(() => ({ callId })) });
      const one = await call(app, "GET", `/v2/calls/recordings/${recordings["first take"].id}?fields=campaignId,state`, { auth: alice.api });
      expect(one.json).toEqual({ campaignId: 15, state: "READY" });
      const byName = await call(app, "GET", `/v2/calls/${callId}/recordings/first%20take?fields=callId`, { auth: alice.api });
      expect(byName.json).toEqual({ callId });
    });

    it("answers 404 for another account's call and recordings, exactly as for missing ones", async () => {
      const { id } = recordings["first take"];
      const paths = [
        [`/v2/calls/${callId}/recordings`, `call ${callId} not found`],
        [`/v2/calls/${callId}/recordings/first%20take`, `call ${callId} has no recording named "first take"`],
        [`/v2/calls/${callId}/recordings/first%20take.mp3`, `call ${callId} has no recording named "first take"`],
        [`/v2/calls/recordings/${id}`, `call recording ${id} not found`],
        [`/v2/calls/recordings/${id}.mp3`, `call recording ${id} not found`],
      ];
      for (const [path, message] of paths) {
        const { status, json } = await call(app, "GET", path!, { auth: bob.api });
        expect({ path, status, json }).toEqual({ path, status: 404, json: { httpStatusCode: 404, internalCode: 0, message } });
      }
      expect((await call(app, "GET", `/v2/calls/${callId}/recordings/no%20such`, { auth: alice.api })).status).toBe(404);
      expect((await call(app, "GET", "/v2/calls/recordings/999999", { auth: alice.api })).status).toBe(404);
    });

    it("needs credentials", async () => {
      const { status, headers } = await call(app, "GET", `/v2/calls/recordings/${recordings["first take"].id}.mp3`);
      expect(status).toBe(401);
      expect(headers.get("www-authenticate")).toBe('Basic realm="switchboard"');
    });

    it("publishes the recording operations under tag calls with CallFire's definitions", async () => {
      const { json } = await call(app, "GET", "/v2/api-docs/swagger.json");
      const operations = Object.entries(json.paths as Record<string, Record<string, { operationId: string; tags: string[] }>>)
        .filter(([path]) => path.startsWith("/calls/") && path.includes("recordings"))
        .map(([path, methods]) => [path, methods.get!.operationId, methods.get!.tags]);
      expect(operations.sort()).toEqual(
        [
          ["/calls/recordings/{id}", "getCallRecording", ["calls"]],
          ["/calls/recordings/{id}.mp3", "getCallRecordingMp3", ["calls"]],
          ["/calls/{id}/recordings", "getCallRecordings", ["calls"]],
          ["/calls/{id}/recordings/{name}", "getCallRecordingByName", ["calls"]],
          ["/calls/{id}/recordings/{name}.mp3", "getCallRecordingMp3ByName", ["calls"]],
        ].sort(),
      );
      expect(Object.keys(json.definitions)).toEqual(expect.arrayContaining(["CallRecording", "CallRecordingList", "CreditUsage", "BillingPlanUsage"]));
      expect(json.paths["/calls/recordings/{id}.mp3"].get.produces).toEqual(["audio/mpeg"]);
    });
  });
});

describeEachDialect("call recording limits and links", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;

  beforeAll(async () => {
    const config = loadConfig({ logLevel: "silent", publicUrl: "https://api.example.com/", recordingMaxBytes: "20000" }, {});
    app = await startTestApp(dialect, { config });
    alice = await createTestAccount(app);
  });
  afterAll(() => app.close());

  it("links mp3Url to the configured public URL", async () => {
    const { json: created } = await ingestCall(app, alice.id);
    const { json } = await uploadRecording(app, "POST", `/calls/${created.id}/recordings`, fixture("tone.wav"), { name: "linked" });
    expect(json.mp3Url).toBe(`https://api.example.com/v2/calls/recordings/${json.id}.mp3`);
  });

  it.each([
    ["a WAV", fixture("tone-44k-stereo.wav")],
    ["an MP3", Buffer.concat(Array.from({ length: 5 }, () => fixture("tone.mp3")))],
  ])("refuses %s over the recording size limit with 413 and keeps nothing", async (_label, bytes) => {
    const { json: created } = await ingestCall(app, alice.id);
    const before = blobFiles(app);
    const { status, json } = await uploadRecording(app, "POST", `/calls/${created.id}/recordings`, bytes, { name: "big" });
    expect(status).toBe(413);
    expect(json).toEqual({ httpStatusCode: 413, internalCode: 0, message: "the recording is larger than the limit of 20000 bytes" });
    expect((await call(app, "GET", `/v2/calls/${created.id}/recordings`, { auth: alice.api })).json).toEqual({ items: [] });
    expect(blobFiles(app)).toEqual(before);
  });
});
