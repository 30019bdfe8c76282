import http from "node:http";
import net from "node:net";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { admin, ingestCall } from "./support/calls.js";
import { blobFiles, fixture } from "./support/media.js";

// The three upload routes share one multipart handler (src/http/uploads.ts); each behaviour here
// is checked on all of them.

const boundary = "switchboard-test-boundary";

interface Part {
  name: string;
  filename?: Buffer | string;
  /** An RFC 5987 `filename*` value instead of `filename`. */
  filenameStar?: string;
  body: Buffer | string;
}

/** A multipart/form-data body exactly as given: names and values as raw bytes, no charset. */
function form(parts: Part[], { closed = true } = {}): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename === undefined ? [] : [Buffer.from('; filename="'), Buffer.from(part.filename as never, "latin1"), Buffer.from('"')];
    const filenameStar = part.filenameStar === undefined ? [] : [Buffer.from(`; filename*=${part.filenameStar}`)];
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`), ...filename, ...filenameStar);
    if (part.filename !== undefined || part.filenameStar !== undefined) chunks.push(Buffer.from("\r\nContent-Type: application/octet-stream"));
    chunks.push(Buffer.from("\r\n\r\n"), typeof part.body === "string" ? Buffer.from(part.body, "latin1") : part.body, Buffer.from("\r\n"));
  }
  if (closed) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

async function post(app: TestApp, method: string, path: string, auth: string, body: Buffer) {
  const response = await fetch(`${app.baseUrl}${path}`, {
    method,
    headers: { authorization: auth, "content-type": `multipart/form-data; boundary=${boundary}` },
    body: new Uint8Array(body),
  });
  return { status: response.status, json: await response.json() };
}

describeEachDialect("uploads", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  const logs: string[] = [];
  const operator = () => `Bearer ${app.adminToken}`;

  beforeAll(async () => {
    const logStream = new PassThrough();
    logStream.on("data", (chunk: Buffer) => logs.push(...chunk.toString().split("\n").filter(Boolean)));
    app = await startTestApp(dialect, { logStream });
    alice = await createTestAccount(app);
  });
  afterAll(() => app.close());

  const newCall = async () => (await ingestCall(app, alice.id)).json.id as number;
  const newRecording = async () => (await admin(app, "POST", `/calls/${await newCall()}/recordings`, { name: "live", state: "RECORDING" })).json.id as number;
  const mediaNamed = async (id: number) => (await call(app, "GET", `/v2/media/${id}?fields=name`, { auth: alice.api })).json.name;

  /** The three upload routes, each with a fresh target and the bytes it takes. */
  const routes = async () => [
    { label: "createMedia", method: "POST", path: "/v2/media", auth: alice.api, file: fixture("image.gif") },
    { label: "a recording upload", method: "POST", path: `/admin/v1/calls/${await newCall()}/recordings`, auth: operator(), file: fixture("tone.mp3") },
    { label: "a recording's audio", method: "PUT", path: `/admin/v1/recordings/${await newRecording()}/audio`, auth: operator(), file: fixture("tone.mp3") },
  ];

  describe("parts in either order", () => {
    it("takes a recording's name after its file, and the row is created once the body has ended", async () => {
      const callId = await newCall();
      const { status, json } = await post(app, "POST", `/admin/v1/calls/${callId}/recordings`, operator(), form([
        { name: "file", filename: "late-name.mp3", body: fixture("tone.mp3") },
        { name: "name", body: "named last" },
      ]));
      expect(status).toBe(201);
      expect(json).toMatchObject({ callId, name: "named last", state: "READY", lengthInBytes: fixture("tone.mp3").length });
      expect((await call(app, "GET", `/v2/calls/${callId}/recordings/named%20last`, { auth: alice.api })).json).toEqual(json);
    });

    it("takes a media name before or after the file", async () => {
      const before = await post(app, "POST", "/v2/media", alice.api, form([{ name: "name", body: "first" }, { name: "file", filename: "a.png", body: fixture("image.png") }]));
      const after = await post(app, "POST", "/v2/media", alice.api, form([{ name: "file", filename: "b.jpg", body: fixture("image.jpg") }, { name: "name", body: "second" }]));
      expect([before.status, after.status]).toEqual([200, 200]);
      expect([await mediaNamed(before.json.id), await mediaNamed(after.json.id)]).toEqual(["first", "second"]);
    });

    it("takes a field after a recording's audio", async () => {
      const id = await newRecording();
      const { status, json } = await post(app, "PUT", `/admin/v1/recordings/${id}/audio`, operator(), form([
        { name: "file", filename: "x.mp3", body: fixture("tone.mp3") },
        { name: "note", body: "ignored" },
      ]));
      expect({ status, state: json.state }).toEqual({ status: 200, state: "READY" });
    });

    it("keeps nothing when the name that follows the file is refused", async () => {
      const callId = await newCall();
      const blobs = blobFiles(app);
      const { status, json } = await post(app, "POST", `/admin/v1/calls/${callId}/recordings`, operator(), form([
        { name: "file", filename: "x.mp3", body: fixture("tone.mp3") },
        { name: "name", body: "a/b" },
      ]));
      expect(status).toBe(400);
      expect(json.message).toBe('name: "a/b" cannot be a URL path segment (no "/", control characters, "." or "..")');
      expect(blobFiles(app)).toEqual(blobs);
      expect((await call(app, "GET", `/v2/calls/${callId}/recordings`, { auth: alice.api })).json).toEqual({ items: [] });
    });
  });

  describe("text parts that are not UTF-8", () => {
    it("reads a name sent as ISO-8859-1 without a charset, as the Java SDK sends Café", async () => {
      const media = await post(app, "POST", "/v2/media", alice.api, form([{ name: "name", body: "Caf\xe9" }, { name: "file", filename: "c.gif", body: fixture("image.gif") }]));
      expect(await mediaNamed(media.json.id)).toBe("Café");

      const callId = await newCall();
      const recording = await post(app, "POST", `/admin/v1/calls/${callId}/recordings`, operator(), form([
        { name: "name", body: "Caf\xe9" },
        { name: "file", filename: "x.mp3", body: fixture("tone.mp3") },
      ]));
      expect(recording.json.name).toBe("Café");
    });

    it("reads a file name sent as ISO-8859-1, and UTF-8 as UTF-8", async () => {
      const latin1 = await post(app, "POST", "/v2/media", alice.api, form([{ name: "file", filename: "Caf\xe9.bmp", body: fixture("image.bmp") }]));
      expect(await mediaNamed(latin1.json.id)).toBe("Café.bmp");
      const utf8 = await post(app, "POST", "/v2/media", alice.api, form([
        { name: "name", body: Buffer.from("Crème brûlée €") },
        { name: "file", filename: Buffer.from("ignored.wav").toString("latin1"), body: fixture("tone.wav") },
      ]));
      expect(await mediaNamed(utf8.json.id)).toBe("Crème brûlée €");
    });
  });

  describe("bodies that break off", () => {
    it("answers a body that ends inside the file part with 400 on every upload route, keeping nothing", async () => {
      for (const route of await routes()) {
        const blobs = blobFiles(app);
        const body = form([{ name: "name", body: "cut" }, { name: "file", filename: "cut.bin", body: route.file }], { closed: false });
        const cut = body.subarray(0, body.length - 40);
        const { status, json } = await post(app, route.method, route.path, route.auth, cut);
        expect({ route: route.label, status, json }).toEqual({
          route: route.label,
          status: 400,
          json: { httpStatusCode: 400, internalCode: 0, message: "malformed multipart/form-data body: Unexpected end of form" },
        });
        expect(blobFiles(app)).toEqual(blobs);
      }
      expect((await call(app, "GET", "/v2/media?filter=cut", { auth: alice.api })).json.totalCount).toBe(0);
    });

    it("logs a client that leaves mid-upload at info level, not as a server error, on every upload route", async () => {
      for (const route of await routes()) {
        const blobs = blobFiles(app);
        const seen = logs.length;
        const request = http.request(`${app.baseUrl}${route.path}`, {
          method: route.method,
          headers: { authorization: route.auth, "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": String(10 * 1024 * 1024) },
        });
        request.on("error", () => {});
        request.write(form([{ name: "name", body: "gone" }, { name: "file", filename: "gone.bin", body: Buffer.concat([route.file, Buffer.alloc(512 * 1024)]) }], { closed: false }));
        // The file part is being written once its temporary file exists.
        await vi.waitFor(() => expect(blobFiles(app).length).toBeGreaterThan(blobs.length));
        await new Promise((resolve) => setTimeout(resolve, 50));
        request.destroy();
        await vi.waitFor(() => expect(logs.slice(seen).map((line) => JSON.parse(line).msg)).toContain("the client left before its upload was complete"));
        await vi.waitFor(() => expect(blobFiles(app)).toEqual(blobs));
        const lines = logs.slice(seen).map((line) => JSON.parse(line));
        expect({ route: route.label, errors: lines.filter((line) => line.level >= 40) }).toEqual({ route: route.label, errors: [] });
        expect(lines.find((line) => line.msg === "the client left before its upload was complete").level).toBe(30);
      }
    });
  });

  describe("NUL in multipart", () => {
    it.each([
      ["a field value", (file: Buffer) => [{ name: "name", body: "a\0b" }, { name: "file", filename: "ok.bin", body: file }], "name: must not contain NUL characters"],
      ["a file name", (file: Buffer) => [{ name: "file", filenameStar: "UTF-8''nul%00.bin", body: file }], "file name: must not contain NUL characters"],
      ["a part header", (file: Buffer) => [{ name: "file", filename: "nul\0.bin", body: file }], "malformed multipart/form-data body: Malformed part header"],
    ])("refuses NUL in %s with 400 on every upload route, keeping nothing", async (_label, parts, message) => {
      for (const route of await routes()) {
        const blobs = blobFiles(app);
        const { status, json } = await post(app, route.method, route.path, route.auth, form(parts(route.file)));
        expect({ route: route.label, status, json }).toEqual({ route: route.label, status: 400, json: { httpStatusCode: 400, internalCode: 0, message } });
        expect(blobFiles(app)).toEqual(blobs);
      }
    });
  });
});

/** Sends `head` and `body` on a raw socket without reading, then reads the whole answer. */
async function sendWithoutReading(baseUrl: string, head: string, body: Buffer): Promise<{ answer: string; writeError?: string }> {
  const { hostname, port } = new URL(baseUrl);
  const socket = net.connect(Number(port), hostname);
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.pause();
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise((resolve) => socket.once("close", resolve));
  let writeError: string | undefined;
  socket.on("error", (error: NodeJS.ErrnoException) => (writeError ??= error.code));
  await new Promise<void>((resolve) => socket.write(Buffer.concat([Buffer.from(head), body]), () => resolve()));
  socket.resume();
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
  socket.destroy();
  return { answer: Buffer.concat(chunks).toString("latin1"), writeError };
}

describe("answers to bodies over a limit", () => {
  let app: TestApp;
  let alice: TestAccount;
  beforeAll(async () => {
    app = await startTestApp("sqlite");
    alice = await createTestAccount(app);
  });
  afterAll(() => app.close());

  const errorBody = (answer: string) => JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));

  it("lets a client that sends all of a 32 MiB JSON body before reading read the 413, also when it asked to close", async () => {
    const body = Buffer.alloc(32 * 1024 * 1024, 0x20);
    const head = `POST /v2/me/api/credentials HTTP/1.1\r\nHost: x\r\nAuthorization: ${alice.login}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const { answer, writeError } = await sendWithoutReading(app.baseUrl, head, body);
    expect(writeError).toBeUndefined();
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 413 Payload Too Large");
    expect(errorBody(answer)).toEqual({ httpStatusCode: 413, internalCode: 0, message: "request body is larger than the 1 MiB limit" });
  });

  it("lets fetch read the 413 of an oversized upload and an oversized JSON body", async () => {
    const media = new FormData();
    media.append("file", new Blob([new Uint8Array(fixture("tone.wav")), new Uint8Array(40 * 1024 * 1024)]), "big.wav");
    const uploaded = await fetch(`${app.baseUrl}/v2/media`, { method: "POST", headers: { authorization: alice.api }, body: media });
    expect({ status: uploaded.status, json: await uploaded.json() }).toEqual({
      status: 413,
      json: { httpStatusCode: 413, internalCode: 0, message: `blob exceeds the limit of ${25 * 1024 * 1024} bytes` },
    });

    const recording = new FormData();
    recording.append("name", "too long");
    recording.append("file", new Blob([new Uint8Array(fixture("tone.mp3")), new Uint8Array(80 * 1024 * 1024)]), "big.mp3");
    const callId = (await ingestCall(app, alice.id)).json.id;
    const recorded = await fetch(`${app.baseUrl}/admin/v1/calls/${callId}/recordings`, { method: "POST", headers: { authorization: `Bearer ${app.adminToken}` }, body: recording });
    expect(recorded.status).toBe(413);
    expect((await recorded.json()).message).toBe(`the recording is larger than the limit of ${64 * 1024 * 1024} bytes`);

    const json = await fetch(`${app.baseUrl}/v2/me/api/credentials`, {
      method: "POST",
      headers: { authorization: alice.login, "content-type": "application/json" },
      body: JSON.stringify({ name: "x".repeat(20 * 1024 * 1024) }),
    });
    expect({ status: json.status, json: await json.json() }).toEqual({ status: 413, json: { httpStatusCode: 413, internalCode: 0, message: "request body is larger than the 1 MiB limit" } });
  });

  it("closes the connection without an answer once it has dropped 64 MiB", async () => {
    const { hostname, port } = new URL(app.baseUrl);
    const socket = net.connect(Number(port), hostname);
    const declared = 512 * 1024 * 1024;
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
    socket.on("error", () => {});
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.write(`POST /v2/me/api/credentials HTTP/1.1\r\nHost: x\r\nAuthorization: ${alice.login}\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    let open = true;
    void closed.then(() => (open = false));
    while (open && sent < declared) {
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once("drain", resolve).once("close", resolve));
      sent += chunk.length;
    }
    await closed;
    expect(answer).toBe("");
    expect(sent).toBeLessThan(declared);
    expect(sent).toBeGreaterThan(64 * 1024 * 1024);
  });
});
