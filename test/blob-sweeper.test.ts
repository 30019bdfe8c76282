import http from "node:http";
import { Readable } from "node:stream";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { uploadTimeLimitMs } from "../src/blobs/blob-store.js";
import { sweepGraceMs } from "../src/services/blob-sweeper.js";
import { createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { ingestCall, uploadRecording } from "./support/calls.js";
import { blobFiles, download, fixture, upload } from "./support/media.js";

async function keysUnder(app: TestApp, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const blob of app.blobs.list(prefix)) keys.push(blob.key);
  return keys.sort();
}

describeEachDialect("the blob sweeper", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  let clock = Date.now();

  beforeAll(async () => {
    app = await startTestApp(dialect, { now: () => clock });
    alice = await createTestAccount(app);
  });
  afterAll(() => app.close());

  it("removes old blobs that no row references, and keeps referenced and young ones", async () => {
    clock = Date.now();
    const media = await upload(app, alice.api, fixture("tone.wav"), { filename: "tone.wav" });
    expect(media.status).toBe(200);
    expect((await download(app, `/v2/media/${media.json.id}.mp3`, { authorization: alice.api })).status).toBe(200);
    const call = await ingestCall(app, alice.id, { startTime: clock });
    expect(call.status).toBe(201);
    const recording = await uploadRecording(app, "POST", `/calls/${call.json.id}/recordings`, fixture("tone.mp3"), { name: "voicemail" });
    expect(recording.status).toBe(201);
    const referenced = [...(await keysUnder(app, "media/")), ...(await keysUnder(app, "renditions/")), ...(await keysUnder(app, "recordings/"))];
    expect(referenced).toHaveLength(3);

    // What a server killed between writing a blob and its row leaves behind.
    const orphans = ["media/0b6f7c1e-orphan", "renditions/5d1a-orphan.mp3", "recordings/9a53-orphan.mp3"];
    for (const key of orphans) await app.blobs.putAt(key, Readable.from([Buffer.from("orphaned bytes")]));
    await app.blobs.putAt("elsewhere/not-ours", Readable.from([Buffer.from("a prefix the sweeper does not own")]));

    const { blobSweeper } = app.services;
    clock = Date.now() + sweepGraceMs - 60_000;
    expect(await blobSweeper.removeUnreferencedBlobs()).toBe(0);

    clock = Date.now() + sweepGraceMs + 60_000;
    expect(await blobSweeper.removeUnreferencedBlobs()).toBe(3);
    for (const key of orphans) expect(await app.blobs.stat(key)).toBeUndefined();
    expect([...(await keysUnder(app, "media/")), ...(await keysUnder(app, "renditions/")), ...(await keysUnder(app, "recordings/"))]).toEqual(referenced);
    expect(await app.blobs.stat("elsewhere/not-ours")).toMatchObject({ size: 33 });

    expect((await download(app, `/v2/media/${media.json.id}.wav`, { authorization: alice.api })).status).toBe(200);
    expect((await download(app, `/v2/media/${media.json.id}.mp3`, { authorization: alice.api })).status).toBe(200);
    expect((await download(app, `/v2/calls/recordings/${recording.json.id}.mp3`, { authorization: alice.api })).status).toBe(200);
    expect(await blobSweeper.removeUnreferencedBlobs()).toBe(0);
  });

  it("refuses to make an upload visible once its put began longer ago than the time limit, and leaves nothing", async () => {
    clock = Date.now();
    const before = blobFiles(app);
    const boundary = "----switchboard-sweeper-test";
    const request = http.request(`${app.baseUrl}/v2/media`, {
      method: "POST",
      headers: { authorization: alice.api, "content-type": `multipart/form-data; boundary=${boundary}` },
    });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      request.on("response", (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode!, body }));
      });
      request.on("error", reject);
    });
    request.write(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="tone.mp3"\r\ncontent-type: audio/mpeg\r\n\r\n`);
    request.write(fixture("tone.mp3"));
    request.write(`\r\n--${boundary}\r\n`);
    // The file is stored; the client takes its time with the rest.
    await vi.waitFor(() => expect(blobFiles(app).filter((f) => f.startsWith("media/"))).toHaveLength(before.filter((f) => f.startsWith("media/")).length + 1));
    clock += uploadTimeLimitMs + 1;
    request.end(`content-disposition: form-data; name="name"\r\n\r\nslow\r\n--${boundary}--\r\n`);

    const { status, body } = await answer;
    expect(status).toBe(408);
    expect(JSON.parse(body)).toEqual({ httpStatusCode: 408, internalCode: 0, message: "the upload took longer than 60 minutes: send it again, faster" });
    expect(blobFiles(app).filter((f) => !f.startsWith("tmp/"))).toEqual(before.filter((f) => !f.startsWith("tmp/")));
  });

  it("names each rendition on its own, so two media with the same bytes never share a blob", async () => {
    const bob = await createTestAccount(app);
    const ids = [];
    for (const account of [alice, bob]) {
      const created = await upload(app, account.api, fixture("tone.mp3"), { filename: "again.mp3" });
      expect(created.status).toBe(200);
      expect((await download(app, `/v2/media/${created.json.id}.wav`, { authorization: account.api })).status).toBe(200);
      ids.push(created.json.id);
    }
    const renditions = await app.database.db.selectFrom("media_rendition").select("blob_key").where("media_id", "in", ids).execute();
    expect(new Set(renditions.map((r) => r.blob_key)).size).toBe(2);
  });
});
