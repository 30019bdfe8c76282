import fs from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import os from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { FsBlobStore } from "../src/blobs/index.js";
import { openDatabase, type Database } from "../src/db/database.js";
import { silentLog } from "../src/delivery/call-transport.js";
import { RetentionSweeper, deliveredOutboxRetentionMs } from "../src/services/retention-sweeper.js";
import { call, createTestAccount, describeEachDialect, type TestAccount, type TestApp } from "./support/app.js";
import { ingestCall, uploadRecording } from "./support/calls.js";
import { persistentTestDatabase, startAppOn, testClock } from "./support/caller-ids.js";
import { blobFiles, download, fixture, upload } from "./support/media.js";
import { startServed } from "./support/served.js";
import { deliverAll } from "./support/sending.js";

const dayMs = 24 * 60 * 60_000;

describeEachDialect("retention", (dialect) => {
  let store: Awaited<ReturnType<typeof persistentTestDatabase>>;
  let database: Database;
  let app: TestApp;
  let alice: TestAccount;
  // Ahead of the wall clock, which stamps accounts' creation: no usage then predates its account.
  const clock = testClock(Date.now() + 600_000);

  let logs: string;
  const start = async (settings: Record<string, string>) => {
    store = await persistentTestDatabase(dialect);
    database = await store.open();
    logs = "";
    const logStream = new PassThrough().on("data", (chunk) => (logs += chunk));
    app = await startAppOn(database, { now: clock.now, logStream, settings: { simulatorDelayMs: "0", ...settings } });
    alice = await createTestAccount(app);
  };
  afterEach(async () => {
    await app.close();
    await database.close();
    await store.drop();
  });

  /** A call with a recording (a WAV, stored as its MP3), made now by the test clock. */
  async function recordedCall(name = "greeting") {
    const { json: made } = await ingestCall(app, alice.id, { startTime: clock.now() });
    const { status, json: recording } = await uploadRecording(app, "POST", `/calls/${made.id}/recordings`, fixture("tone.wav"), { name });
    expect(status).toBe(201);
    return { callId: made.id as number, recordingId: recording.id as number };
  }

  /** A media file (MP3 or WAV) with its rendition in the other format made, and its public URL's path. */
  async function mediaWithRendition(file: "tone.mp3" | "tone.wav" = "tone.mp3") {
    const { status, json } = await upload(app, alice.api, fixture(file));
    expect(status).toBe(200);
    const other = file.endsWith(".mp3") ? "wav" : "mp3";
    expect((await download(app, `/v2/media/${json.id}.${other}`, { authorization: alice.api })).status).toBe(200);
    const { publicUrl } = (await call(app, "GET", `/v2/media/${json.id}`, { auth: alice.api })).json;
    return { id: json.id as number, publicPath: new URL(publicUrl).pathname };
  }

  const usageRows = () => database.db.selectFrom("usage_charge").select(["call_id", "credits"]).where("account_id", "=", alice.id).orderBy("id").execute();

  it("removes recordings older than SWITCHBOARD_RECORDING_RETENTION_DAYS with their blobs, and keeps the calls and their charges", async () => {
    await start({ recordingRetentionDays: "30" });
    const old = await recordedCall();
    const charged = await usageRows();
    expect(charged).toHaveLength(1);
    const oldBlobs = blobFiles(app);
    expect(oldBlobs.filter((file) => file.startsWith("recordings/"))).toHaveLength(1);

    clock.advance(30 * dayMs + 1);
    const fresh = await recordedCall("fresh");
    expect(await app.services.retention.sweep()).toEqual({ recordings: 1, media: 0, deliveries: 0 });
    expect(logs).toContain('"msg":"retention sweep removed 1 call recording(s), 0 media file(s) and 0 delivered outbox row(s)"');

    expect((await call(app, "GET", `/v2/calls/recordings/${old.recordingId}`, { auth: alice.api })).status).toBe(404);
    expect((await call(app, "GET", `/v2/calls/recordings/${old.recordingId}.mp3`, { auth: alice.api })).status).toBe(404);
    expect((await call(app, "GET", `/v2/calls/recordings/${fresh.recordingId}`, { auth: alice.api })).status).toBe(200);
    // The call and what it was charged stay.
    expect((await call(app, "GET", `/v2/calls/${old.callId}`, { auth: alice.api })).status).toBe(200);
    expect((await usageRows()).slice(0, 1)).toEqual(charged);
    expect(blobFiles(app).filter((file) => oldBlobs.includes(file))).toEqual([]);
    expect(blobFiles(app).filter((file) => file.startsWith("recordings/"))).toHaveLength(1);
    // Nothing is left to remove.
    expect(await app.services.retention.sweep()).toEqual({ recordings: 0, media: 0, deliveries: 0 });
  });

  it("removes media older than SWITCHBOARD_MEDIA_RETENTION_DAYS with its renditions: the public URL then answers 404", async () => {
    await start({ mediaRetentionDays: "90", recordingRetentionDays: "365" });
    const old = await mediaWithRendition();
    expect((await download(app, old.publicPath.replace(/\.mp3$/, ".wav"))).status).toBe(200);
    const oldBlobs = blobFiles(app);
    expect(oldBlobs.filter((file) => file.startsWith("media/") || file.startsWith("renditions/"))).toHaveLength(2);
    const recorded = await recordedCall();

    clock.advance(90 * dayMs + 1);
    const fresh = await mediaWithRendition("tone.wav");
    expect(await app.services.retention.sweep()).toEqual({ recordings: 0, media: 1, deliveries: 0 });

    for (const extension of ["mp3", "wav"]) expect((await download(app, old.publicPath.replace(/\.mp3$/, `.${extension}`))).status).toBe(404);
    expect((await call(app, "GET", `/v2/media/${old.id}`, { auth: alice.api })).status).toBe(404);
    expect((await call(app, "GET", `/v2/media/${fresh.id}`, { auth: alice.api })).status).toBe(200);
    expect((await download(app, fresh.publicPath)).status).toBe(200);
    expect((await call(app, "GET", `/v2/calls/recordings/${recorded.recordingId}`, { auth: alice.api })).status).toBe(200);
    const left = blobFiles(app);
    expect(left.filter((file) => oldBlobs.includes(file) && !file.startsWith("recordings/"))).toEqual([]);
    expect(left.filter((file) => file.startsWith("media/") || file.startsWith("renditions/"))).toHaveLength(2);
    expect(await database.db.selectFrom("media_rendition").select("media_id").execute()).toEqual([{ media_id: fresh.id }]);
  });

  it("keeps recordings and media forever when no retention is set, and removes delivered outbox rows after 7 days", async () => {
    await start({});
    await recordedCall();
    await mediaWithRendition();
    // Three verification calls: one delivered, one failed, one still waiting.
    for (const number of ["12135550101", "12135550102", "12135550103"]) {
      expect((await call(app, "POST", `/v2/me/callerids/${number}`, { auth: alice.api })).status).toBe(200);
    }
    await deliverAll(app);
    const rows = await database.db.selectFrom("call_outbox").select(["id", "to_number"]).orderBy("id").execute();
    await database.db.updateTable("call_outbox").set({ status: "FAILED" }).where("to_number", "=", "12135550102").execute();
    await database.db.updateTable("call_outbox").set({ status: "PENDING", next_attempt_at: clock.now() + 30 * dayMs }).where("to_number", "=", "12135550103").execute();
    const before = blobFiles(app);

    clock.advance(deliveredOutboxRetentionMs - 60_000);
    expect(await app.services.retention.sweep()).toEqual({ recordings: 0, media: 0, deliveries: 0 });
    clock.advance(10 * 60_000);
    expect(await app.services.retention.sweep()).toEqual({ recordings: 0, media: 0, deliveries: 1 });
    clock.advance(3650 * dayMs);
    expect(await app.services.retention.sweep()).toEqual({ recordings: 0, media: 0, deliveries: 0 });

    const left = await database.db.selectFrom("call_outbox").select(["to_number", "status"]).orderBy("id").execute();
    expect(left).toEqual([
      { to_number: "12135550102", status: "FAILED" },
      { to_number: "12135550103", status: "PENDING" },
    ]);
    expect(rows).toHaveLength(3);
    expect(blobFiles(app)).toEqual(before);
  });

  it("is safe on several nodes at once: two sweeps together remove each row once and every blob, already-gone blobs included", async () => {
    await start({ recordingRetentionDays: "1", mediaRetentionDays: "1" });
    const media = [];
    for (const file of ["tone.mp3", "tone.wav", "image.png", "image.gif", "image.jpg", "image.bmp"]) media.push((await upload(app, alice.api, fixture(file))).json.id);
    await download(app, `/v2/media/${media[0]}.wav`, { authorization: alice.api });
    const recordings = [];
    for (let i = 0; i < 12; i++) recordings.push(await recordedCall(`take ${i}`));
    // One recording's blob is already gone (a crash after an earlier delete, an operator's cleanup).
    const [gone] = blobFiles(app).filter((file) => file.startsWith("recordings/"));
    fs.rmSync(path.join(app.dataDir, "blobs", gone!));
    expect(blobFiles(app).length).toBe(6 + 1 + 11);
    clock.advance(dayMs + 1);

    // A second node: its own connection to the same database, and the same blob store.
    const other = await store.open();
    try {
      const sweeper = (db: Database) =>
        new RetentionSweeper(db.db, db.dialect, new FsBlobStore(path.join(app.dataDir, "blobs")), silentLog, {
          now: clock.now,
          recordingDays: 1,
          mediaDays: 1,
          intervalMs: 60_000,
          batchSize: 5,
        });
      const [a, b] = await Promise.all([sweeper(database).sweep(), sweeper(other).sweep()]);
      expect(a.recordings + b.recordings).toBe(12);
      expect(a.media + b.media).toBe(6);
    } finally {
      await other.close();
    }
    expect(await database.db.selectFrom("call_recording").select("id").execute()).toEqual([]);
    expect(await database.db.selectFrom("media").select("id").execute()).toEqual([]);
    expect(await database.db.selectFrom("media_rendition").select("media_id").execute()).toEqual([]);
    expect(blobFiles(app)).toEqual([]);
    expect(await usageRows()).toHaveLength(12);
  });
});

describe("switchboard serve", () => {
  it("runs the retention sweep from the start", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-retention-"));
    const database = openDatabase({ dataDir });
    await database.migrate();
    // A recording in progress made two days ago (no audio: nothing for a blob store to hold).
    const account = await database.db.insertInto("account").values({ email: "old@example.com", password_hash: "x", name: null, first_name: null, last_name: null, created: 0 }).returning("id").executeTakeFirstOrThrow();
    const made = await database.db
      .insertInto("call")
      .values({ account_id: account.id, from_number: "12135551189", to_number: "13105550100", start_time: 0, duration_seconds: 0, campaign_id: null, external_id: null, created: 0, batch_id: null, script: null, attributes: null, labels: null, final_result: null, finish_time: null, caller_name: null })
      .returning("id")
      .executeTakeFirstOrThrow();
    const created = Date.now() - 2 * dayMs;
    await database.db.insertInto("call_recording").values({ account_id: account.id, call_id: made.id, name: "old", state: "RECORDING", created, blob_key: null, length_in_bytes: null, sha256: null, duration_ms: null }).execute();
    await database.close();
    const served = await startServed([], { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_RECORDING_RETENTION_DAYS: "1" });
    try {
      await served.waitFor("retention sweep removed 1 call recording(s)");
    } finally {
      served.child.kill("SIGTERM");
      await served.exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
