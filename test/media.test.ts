import { randomFillSync } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { fileTypeFromBuffer } from "file-type";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { probeAudioDurationSeconds } from "../src/audio/probe.js";
import { basic, call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { makeWav } from "./audio/helpers.js";
import { blobFiles, download, fixture, upload } from "./support/media.js";

const formats = [
  ["tone.wav", "audio/x-wav", "wav", "audio/wav"],
  ["tone.mp3", "audio/mp3", "mp3", "audio/mp3"],
  ["tone.m4a", "audio/m4a", "m4a", "audio/m4a"],
  ["clip.mp4", "video/mp4", "mp4", "video/mp4"],
  ["image.png", "image/png", "png", "image/png"],
  ["image.jpg", "image/jpeg", "jpeg", "image/jpeg"],
  ["image.gif", "image/gif", "gif", "image/gif"],
  ["image.bmp", "image/bmp", "bmp", "image/x-bmp"],
] as const;

describeEachDialect("media library", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  let bob: TestAccount;
  const ids = new Map<string, number>();

  beforeAll(async () => {
    app = await startTestApp(dialect);
    alice = await createTestAccount(app);
    bob = await createTestAccount(app);
  });
  afterAll(() => app.close());

  describe("createMedia and getMedia", () => {
    it.each(formats)("accepts %s, detected from its bytes, and reports %s", async (file, mediaType, urlExtension) => {
      const created = await upload(app, alice.api, fixture(file), { filename: file });
      expect(created).toEqual({ status: 200, json: { id: expect.any(Number) } });
      ids.set(file, created.json.id);

      const { json } = await call(app, "GET", `/v2/media/${created.json.id}`, { auth: alice.api });
      expect(json).toEqual({
        id: created.json.id,
        accountId: alice.id,
        name: file,
        created: expect.any(Number),
        lengthInBytes: fixture(file).length,
        mediaType,
        publicUrl: expect.stringMatching(new RegExp(`^${app.baseUrl}/v2/media/public/[A-Za-z0-9_-]{22}\\.${urlExtension}$`)),
      });
    });

    it("takes the name part when given, and trusts the bytes over the file name", async () => {
      const created = await upload(app, bob.api, fixture("tone.mp3"), { filename: "picture.png", name: "My super mp3 file" });
      const { json } = await call(app, "GET", `/v2/media/${created.json.id}?fields=name,mediaType`, { auth: bob.api });
      expect(json).toEqual({ name: "My super mp3 file", mediaType: "audio/mp3" });
    });

    it("refuses the same bytes again in the same account with the id CallFire's SDKs parse", async () => {
      const again = await upload(app, alice.api, fixture("image.png"), { filename: "other.png", name: "another name" });
      expect(again.status).toBe(400);
      expect(again.json.message).toMatch(/mediaId: \d+$/);
      expect(Number(again.json.message.split("mediaId: ")[1])).toBe(ids.get("image.png"));
    });

    it("refuses a name with control characters, and drops them from a file name", async () => {
      const named = await upload(app, bob.api, fixture("image.jpg"), { filename: "x.jpg", name: "two\r\nlines" });
      expect(named).toEqual({ status: 400, json: { httpStatusCode: 400, internalCode: 0, message: "name: must not contain control characters" } });
      const fromFile = await upload(app, bob.api, fixture("image.jpg"), { filename: "tab\there.jpg" });
      expect((await call(app, "GET", `/v2/media/${fromFile.json.id}?fields=name`, { auth: bob.api })).json).toEqual({ name: "tabhere.jpg" });
    });

    it("lets another account upload the same bytes", async () => {
      expect((await upload(app, bob.api, fixture("image.png"), { filename: "image.png" })).status).toBe(200);
    });

    it.each([
      ["a text file named .wav", fixture("not-audio.txt"), "renamed.wav", "unsupported media format: accepted formats are bmp, gif, jpg, m4a, mp3, mp4, png, wav"],
      ["a zero-byte file", Buffer.alloc(0), "empty.wav", "the uploaded file is empty"],
      ["a truncated WAV header", fixture("tone.wav").subarray(0, 40), "short.wav", "the uploaded file is not a playable wav file"],
    ])("refuses %s with 400 and keeps nothing", async (_label, bytes, filename, message) => {
      const before = blobFiles(app);
      const { status, json } = await upload(app, alice.api, bytes, { filename });
      expect(status).toBe(400);
      expect(json).toEqual({ httpStatusCode: 400, internalCode: 0, message });
      expect(blobFiles(app)).toEqual(before);
      expect((await call(app, "GET", "/v2/media?filter=" + filename, { auth: alice.api })).json.totalCount).toBe(0);
    });

    it("refuses two file parts, no file part and a non-multipart body with 400, keeping nothing", async () => {
      const before = blobFiles(app);
      const twoFiles = await upload(app, alice.api, fixture("image.gif").subarray(0), {
        filename: "a.gif",
        extraParts: [["file", new Blob([new Uint8Array(fixture("image.bmp"))]), "b.bmp"]],
      });
      expect(twoFiles).toEqual({ status: 400, json: { httpStatusCode: 400, internalCode: 0, message: "send exactly one part named file" } });

      const form = new FormData();
      form.append("name", "only a name");
      const noFile = await fetch(`${app.baseUrl}/v2/media`, { method: "POST", headers: { authorization: alice.api }, body: form });
      expect(noFile.status).toBe(400);
      expect((await noFile.json()).message).toBe("the part named file is required");

      const json = await call(app, "POST", "/v2/media", { auth: alice.api, body: { file: "abc" } });
      expect(json.status).toBe(400);
      expect(json.json.message).toBe("send the file as multipart/form-data, in a part named file");
      expect(blobFiles(app)).toEqual(before);
    });

    it("refuses a 30 MiB file with 413 and keeps nothing", async () => {
      const before = blobFiles(app);
      const big = Buffer.concat([fixture("tone.wav"), Buffer.alloc(30 * 1024 * 1024)]);
      const { status, json } = await upload(app, alice.api, big, { filename: "big.wav" });
      expect(status).toBe(413);
      expect(json).toEqual({ httpStatusCode: 413, internalCode: 0, message: `blob exceeds the limit of ${25 * 1024 * 1024} bytes` });
      expect(blobFiles(app)).toEqual(before);
    });

    it("keeps neither row nor blob when the client disconnects halfway", async () => {
      const before = blobFiles(app);
      const boundary = "----switchboard-test";
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.wav"\r\nContent-Type: audio/wav\r\n\r\n`;
      const request = http.request(`${app.baseUrl}/v2/media`, {
        method: "POST",
        headers: { authorization: alice.api, "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": String(10 * 1024 * 1024) },
      });
      request.on("error", () => {});
      request.write(head);
      request.write(fixture("tone.wav"));
      request.write(Buffer.alloc(2 * 1024 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 200));
      request.destroy();
      await vi.waitFor(async () => {
        const files = blobFiles(app);
        expect(files).toEqual(before);
      });
      expect((await call(app, "GET", "/v2/media?filter=half", { auth: alice.api })).json.totalCount).toBe(0);
    });
  });

  describe("findMedia", () => {
    it("finds by case-insensitive substring of the name, pages by id and applies fields", async () => {
      const page = await call(app, "GET", "/v2/media?filter=IMAGE.&limit=2&fields=items(name),limit,totalCount", { auth: alice.api });
      expect(page.json).toEqual({ items: [{ name: "image.png" }, { name: "image.jpg" }], limit: 2, totalCount: 4 });
      const literal = await call(app, "GET", `/v2/media?filter=${encodeURIComponent("%")}`, { auth: alice.api });
      expect(literal.json.totalCount).toBe(0);
    });

    it("never shows another account's media", async () => {
      const { json } = await call(app, "GET", "/v2/media?fields=items(accountId)", { auth: bob.api });
      expect(json.items.length).toBeGreaterThan(0);
      expect(json.items).toEqual(json.items.map(() => ({ accountId: bob.id })));
    });
  });

  describe("downloads", () => {
    /** 44.1 kHz stereo WAV of random samples, so any misplaced chunk shows. */
    const noiseWav = (seconds: number) => {
      const wav = Buffer.from(makeWav({ rate: 44100, channels: 2, seconds }));
      return randomFillSync(wav, 44);
    };
    /** Uploads it and tells where its blob landed, relative to the blob store's root. */
    const uploadNoise = async (account: TestAccount, wav: Buffer) => {
      const before = blobFiles(app);
      const { json } = await upload(app, account.api, wav, { filename: "noise.wav" });
      return { json, stored: blobFiles(app).find((file) => !before.includes(file))! };
    };
    it.each(formats)("returns %s byte-identical with CallFire's content type, whatever Accept says", async (file, _mediaType, urlExtension, contentType) => {
      const id = ids.get(file)!;
      const { status, headers, body } = await download(app, `/v2/media/${id}.${urlExtension}`, { authorization: alice.api, accept: "image/jpeg" });
      expect(status).toBe(200);
      expect(headers.get("content-type")).toBe(contentType);
      expect(headers.get("content-length")).toBe(String(fixture(file).length));
      expect(headers.get("x-content-type-options")).toBe("nosniff");
      expect(body.equals(fixture(file))).toBe(true);
    });

    it("serves jpg and jpeg alike, and extensions in any case", async () => {
      const jpg = await download(app, `/v2/media/${ids.get("image.jpg")}.jpg`, { authorization: alice.api });
      expect(jpg.status).toBe(200);
      const upper = await download(app, `/v2/media/${ids.get("tone.mp3")}.MP3`, { authorization: alice.api });
      expect(upper.status).toBe(200);
      expect(upper.body.equals(fixture("tone.mp3"))).toBe(true);
    });

    it("returns the stored bytes unchanged as application/binary from /file", async () => {
      const { status, headers, body } = await download(app, `/v2/media/${ids.get("tone.wav")}/file`, { authorization: alice.api });
      expect(status).toBe(200);
      expect(headers.get("content-type")).toBe("application/binary");
      expect(body.equals(fixture("tone.wav"))).toBe(true);
    });

    it("refuses an extension outside the list with 400 and another stored format with 404", async () => {
      for (const extension of ["exe", "__proto__", "toString"]) {
        const refused = await call(app, "GET", `/v2/media/${ids.get("tone.wav")}.${extension}`, { auth: alice.api });
        expect(refused.status, extension).toBe(400);
      }
      const png = await call(app, "GET", `/v2/media/${ids.get("tone.wav")}.png`, { auth: alice.api });
      expect(png.status).toBe(404);
      expect(png.json.message).toBe(`file currently unavailable for mediaId: ${ids.get("tone.wav")}: it is stored as wav, not png`);
    });

    it("converts WAV to MP3 once, for concurrent first requests too, and keeps the rendition", async () => {
      const id = ids.get("tone.wav")!;
      const convert = vi.spyOn(app.services.media["converter"], "wavToMp3");
      const results = await Promise.all([1, 2, 3].map(() => download(app, `/v2/media/${id}.mp3`, { authorization: alice.api })));
      expect(convert).toHaveBeenCalledTimes(1);
      for (const { status, headers, body } of results) {
        expect(status).toBe(200);
        expect(headers.get("content-type")).toBe("audio/mp3");
        expect(body.equals(results[0]!.body)).toBe(true);
      }
      expect((await fileTypeFromBuffer(results[0]!.body))?.ext).toBe("mp3");
      expect(Math.abs((await probeAudioDurationSeconds(results[0]!.body))! - 1)).toBeLessThan(0.05);
      await download(app, `/v2/media/${id}.mp3`, { authorization: alice.api });
      expect(convert).toHaveBeenCalledTimes(1);
    });

    it("answers a rendition it cannot make as unavailable (404), not as a bad request", async () => {
      const lowRate = await upload(app, alice.api, Buffer.from(makeWav({ rate: 4000, channels: 1, seconds: 0.5 })), { filename: "low.wav" });
      expect(lowRate.status).toBe(200);
      const { status, json } = await call(app, "GET", `/v2/media/${lowRate.json.id}.mp3`, { auth: alice.api });
      expect(status).toBe(404);
      expect(json.message).toBe(`file currently unavailable for mediaId: ${lowRate.json.id}: WAV sample rate 4000 Hz is not supported: use 8000 to 192000 Hz`);
    });

    it("converts MP3 to WAV", async () => {
      const { status, headers, body } = await download(app, `/v2/media/${ids.get("tone.mp3")}.wav`, { authorization: alice.api });
      expect(status).toBe(200);
      expect(headers.get("content-type")).toBe("audio/wav");
      expect((await fileTypeFromBuffer(body))?.ext).toBe("wav");
    });

    it("answers HEAD, single ranges, 416, If-None-Match and If-Range", async () => {
      const path = `/v2/media/${ids.get("tone.wav")}.wav`;
      const whole = fixture("tone.wav");
      const auth = { authorization: alice.api };

      const head = await fetch(`${app.baseUrl}${path}`, { method: "HEAD", headers: auth });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-length")).toBe(String(whole.length));
      expect(head.headers.get("accept-ranges")).toBe("bytes");
      const etag = head.headers.get("etag")!;
      expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
      expect(head.headers.get("content-disposition")).toBe(`inline; filename="tone.wav"; filename*=UTF-8''tone.wav`);
      expect(head.headers.get("cache-control")).toBe("private, max-age=0, must-revalidate");

      const first = await download(app, path, { ...auth, range: "bytes=0-9" });
      expect(first.status).toBe(206);
      expect(first.headers.get("content-range")).toBe(`bytes 0-9/${whole.length}`);
      expect(first.body.equals(whole.subarray(0, 10))).toBe(true);

      const tail = await download(app, path, { ...auth, range: "bytes=-4" });
      expect(tail.body.equals(whole.subarray(-4))).toBe(true);
      const from = await download(app, path, { ...auth, range: "bytes=16000-" });
      expect(from.body.equals(whole.subarray(16000))).toBe(true);

      const beyond = await download(app, path, { ...auth, range: "bytes=999999999-" });
      expect(beyond.status).toBe(416);
      expect(beyond.headers.get("content-range")).toBe(`bytes */${whole.length}`);
      expect(JSON.parse(beyond.body.toString())).toEqual({ httpStatusCode: 416, internalCode: 0, message: "requested range not satisfiable" });

      for (const ignored of ["bytes=5-2", "items=0-1", "bytes=0-1,4-5"]) {
        const full = await download(app, path, { ...auth, range: ignored });
        expect(full.status, ignored).toBe(200);
        expect(full.body.equals(whole)).toBe(true);
      }

      const notModified = await download(app, path, { ...auth, "if-none-match": etag });
      expect(notModified.status).toBe(304);
      expect(notModified.body.length).toBe(0);

      const staleIfRange = await download(app, path, { ...auth, range: "bytes=0-9", "if-range": '"stale"' });
      expect(staleIfRange.status).toBe(200);
      const freshIfRange = await download(app, path, { ...auth, range: "bytes=0-9", "if-range": etag });
      expect(freshIfRange.status).toBe(206);
    });

    it("sends a file larger than its read buffers byte for byte, whole and in ranges across them", async () => {
      const wav = noiseWav(6.1); // four 256 KiB read buffers and then some
      const { json } = await uploadNoise(alice, wav);
      const path = `/v2/media/${json.id}.wav`;
      const auth = { authorization: alice.api };
      expect((await download(app, path, auth)).body.equals(wav)).toBe(true);
      const boundary = 256 * 1024;
      for (const [first, last] of [[boundary - 3, boundary + 3], [1, 3 * boundary], [boundary, 2 * boundary - 1], [wav.length - 1, wav.length - 1]]) {
        const part = await download(app, path, { ...auth, range: `bytes=${first}-${last}` });
        expect(part.status).toBe(206);
        expect(part.body.equals(wav.subarray(first, last! + 1)), `${first}-${last}`).toBe(true);
      }
      // The buffers go back to a pool: a smaller file sent next gets its own bytes and no others.
      const small = await download(app, `/v2/media/${ids.get("image.gif")}.gif`, auth);
      expect(small.body.equals(fixture("image.gif"))).toBe(true);
    });

    it("closes the file when the client goes away mid-download, and keeps serving", async () => {
      const wav = noiseWav(30);
      const { json, stored } = await uploadNoise(alice, wav);
      const openOnBlob = () =>
        fs.readdirSync("/proc/self/fd").filter((fd) => {
          try {
            return fs.readlinkSync(`/proc/self/fd/${fd}`).endsWith(stored);
          } catch {
            return false; // closed meanwhile
          }
        }).length;

      // One client leaves while reading; another stops reading first (a player buffering), so the
      // server is waiting on a full socket when the connection goes.
      for (const pauseMs of [0, 300]) {
        await new Promise<void>((resolve, reject) => {
          const request = http.get(`${app.baseUrl}/v2/media/${json.id}.wav`, { headers: { authorization: alice.api } }, (response) => {
            response.once("data", () => {
              if (pauseMs) response.pause();
              setTimeout(() => {
                request.destroy();
                resolve();
              }, pauseMs);
            });
          });
          request.on("error", (error) => (request.destroyed ? undefined : reject(error)));
        });
        await vi.waitFor(() => expect(openOnBlob(), `paused ${pauseMs} ms`).toBe(0));
      }
      expect((await download(app, `/v2/media/${json.id}.wav`, { authorization: alice.api })).body.equals(wav)).toBe(true);
      await vi.waitFor(() => expect(openOnBlob()).toBe(0)); // closed just after the last byte goes out
    });

    it("cuts the connection short when the stored file is shorter than its record", async () => {
      const wav = noiseWav(3);
      const { json, stored } = await uploadNoise(bob, wav);
      fs.truncateSync(`${app.dataDir}/blobs/${stored}`, 300_000);
      const received = await new Promise<{ length: number; declared: number; complete: boolean }>((resolve, reject) => {
        http.get(`${app.baseUrl}/v2/media/${json.id}.wav`, { headers: { authorization: bob.api } }, (response) => {
          let length = 0;
          response.on("data", (chunk: Buffer) => (length += chunk.length));
          response.on("close", () => resolve({ length, declared: Number(response.headers["content-length"]), complete: response.complete }));
        }).on("error", reject);
      });
      expect(received).toEqual({ length: 300_000, declared: wav.length, complete: false });
    });

    it("never lets an error answer carry the file's caching headers", async () => {
      const { json } = await call(app, "GET", `/v2/media/${ids.get("image.png")}`, { auth: alice.api });
      const refused = await download(app, new URL(json.publicUrl).pathname, { range: "bytes=999999-" });
      expect(refused.status).toBe(416);
      expect(refused.headers.get("cache-control")).toBeNull();
      expect(refused.headers.get("etag")).toBeNull();
    });

    it("answers a row whose stored file is gone with 500, not 404", async () => {
      const created = await upload(app, bob.api, fixture("tone.m4a"), { filename: "lost.m4a" });
      const row = await app.database.db.selectFrom("media").select("blob_key").where("id", "=", created.json.id).executeTakeFirstOrThrow();
      await app.blobs.delete(row.blob_key);
      const { status, json } = await call(app, "GET", `/v2/media/${created.json.id}.m4a`, { auth: bob.api });
      expect(status).toBe(500);
      expect(json.message).toMatch(/^internal server error \(request id /);
      expect(json.message).not.toContain(row.blob_key);
    });

    it("serves the public URL without credentials, publicly cacheable, and only for a real key", async () => {
      const { json } = await call(app, "GET", `/v2/media/${ids.get("image.gif")}`, { auth: alice.api });
      const url = new URL(json.publicUrl);
      const { status, headers, body } = await download(app, url.pathname);
      expect(status).toBe(200);
      expect(headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(body.equals(fixture("image.gif"))).toBe(true);

      for (const bad of ["short.gif", `${"A".repeat(40)}.gif`, `${url.pathname.split("/").pop()!.slice(0, 21)}!.gif`]) {
        const refused = await call(app, "GET", `/v2/media/public/${encodeURIComponent(bad).replace("%2E", ".")}`);
        expect(refused.status, bad).toBe(404);
        expect(refused.json.message).toBe("no media has this public key");
      }
    });

    it("ignores any Authorization header on the public URL: the key is the credential", async () => {
      const { json } = await call(app, "GET", `/v2/media/${ids.get("image.gif")}`, { auth: alice.api });
      const { pathname } = new URL(json.publicUrl);
      for (const authorization of [basic("nobody@example.com", "wrong password"), basic(alice.email, "wrong password"), "Bearer not-basic", "Basic !!!"]) {
        const { status, body } = await download(app, pathname, { authorization });
        expect(status, authorization).toBe(200);
        expect(body.equals(fixture("image.gif"))).toBe(true);
      }
      // Wrong passwords sent there are no login attempts: more than the throttle allows, and the login still works.
      for (let i = 0; i < 11; i++) await download(app, pathname, { authorization: basic(alice.email, "wrong password") });
      expect((await call(app, "GET", "/v2/me/account", { auth: alice.login })).status).toBe(200);
    });
  });

  describe("tenancy", () => {
    it("answers another account's media as not found everywhere", async () => {
      const id = ids.get("tone.wav")!;
      for (const path of [`/v2/media/${id}`, `/v2/media/${id}.wav`, `/v2/media/${id}.mp3`, `/v2/media/${id}/file`]) {
        const { status, json } = await call(app, "GET", path, { auth: bob.api });
        expect(status, path).toBe(404);
        expect(json).toEqual({ httpStatusCode: 404, internalCode: 0, message: `media ${id} not found` });
      }
    });
  });
});

describe("media links with a configured public URL", () => {
  it("builds publicUrl from SWITCHBOARD_PUBLIC_URL", async () => {
    const app = await startTestApp("sqlite");
    const { loadConfig } = await import("../src/config.js");
    const configured = await startTestApp("sqlite", { config: loadConfig({ dataDir: app.dataDir, logLevel: "silent", publicUrl: "https://media.example.com/" }, {}) });
    try {
      const account = await createTestAccount(configured);
      const created = await upload(configured, account.api, fixture("image.png"), { filename: "x.png" });
      const { json } = await call(configured, "GET", `/v2/media/${created.json.id}`, { auth: account.api });
      expect(json.publicUrl).toMatch(/^https:\/\/media\.example\.com\/v2\/media\/public\/[A-Za-z0-9_-]{22}\.png$/);
    } finally {
      await configured.close();
      await app.close();
    }
  });
});

describe("request logs", () => {
  it("never log the public media key, which is the credential of its URL", async () => {
    const { PassThrough } = await import("node:stream");
    const logs: string[] = [];
    const logStream = new PassThrough();
    logStream.on("data", (line: Buffer) => logs.push(line.toString()));
    const app = await startTestApp("sqlite", { logStream });
    try {
      const account = await createTestAccount(app);
      const created = await upload(app, account.api, fixture("image.gif"), { filename: "x.gif" });
      const { json } = await call(app, "GET", `/v2/media/${created.json.id}`, { auth: account.api });
      const path = new URL(json.publicUrl).pathname;
      expect((await download(app, path)).status).toBe(200);
      const key = path.split("/").pop()!.split(".")[0]!;
      const logged = logs.join("");
      expect(logged).toContain(`"url":"/v2/media/public/[redacted]"`);
      expect(logged).not.toContain(key);
      expect(logged).not.toContain("the client left");

      // A download the client leaves is logged as such (Fastify logs no completion for it).
      const long = await upload(app, account.api, Buffer.from(makeWav({ rate: 44100, channels: 2, seconds: 20 })), { filename: "long.wav" });
      await new Promise<void>((resolve) => {
        const request = http.get(`${app.baseUrl}/v2/media/${long.json.id}.wav`, { headers: { authorization: account.api } }, (response) =>
          response.once("data", () => {
            request.destroy();
            resolve();
          }),
        );
        request.on("error", () => {});
      });
      await vi.waitFor(() => expect(logs.join("")).toContain('"msg":"the client left before the download finished"'));
    } finally {
      await app.close();
    }
  });
});

describe("malformed multipart bodies", () => {
  it("answers a form with no boundary, or one that ends inside a part, with 400 and keeps nothing", async () => {
    const app = await startTestApp("sqlite");
    try {
      const account = await createTestAccount(app);
      const noBoundary = await call(app, "POST", "/v2/media", { auth: account.api, rawBody: "xxxx", headers: { "content-type": "multipart/form-data" } });
      expect(noBoundary.json).toEqual({ httpStatusCode: 400, internalCode: 0, message: "malformed multipart/form-data body: Multipart: Boundary not found" });
      const truncated = await call(app, "POST", "/v2/media", {
        auth: account.api,
        rawBody: `--abc\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n${fixture("tone.wav").subarray(0, 100).toString("latin1")}`,
        headers: { "content-type": "multipart/form-data; boundary=abc" },
      });
      expect(truncated.status).toBe(400);
      expect(truncated.json.message).toMatch(/^malformed multipart\/form-data body: /);
      expect(blobFiles(app)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
