import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fixture } from "./support/media.js";
import { startServed, type ServedProcess } from "./support/served.js";

const boundary = "----switchboard-shutdown-test";

/** A media upload whose body the test sends piece by piece; `answer` settles when the server replies or cuts it. */
function slowUpload(server: ServedProcess) {
  const request = http.request(`${server.baseUrl}/v2/media`, {
    method: "POST",
    agent: false,
    headers: { authorization: server.demoApi!, "content-type": `multipart/form-data; boundary=${boundary}` },
  });
  const answer = new Promise<{ status: number; connection?: string; body: string } | { error: string }>((resolve) => {
    request.on("response", (response) => {
      let body = "";
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, connection: response.headers.connection, body }));
      response.on("error", (error) => resolve({ error: error.message }));
    });
    request.on("error", (error) => resolve({ error: error.message }));
  });
  const wav = fixture("tone.wav");
  request.write(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="tone.wav"\r\ncontent-type: audio/wav\r\n\r\n`);
  request.write(wav.subarray(0, 8192));
  return {
    answer,
    finish: () => request.end(Buffer.concat([wav.subarray(8192), Buffer.from(`\r\n--${boundary}--\r\n`)])),
  };
}

function get(url: string, agent: http.Agent | false = false): Promise<{ status: number; connection?: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode!, connection: response.headers.connection, body }));
      })
      .on("error", reject);
  });
}

describe("stopping switchboard serve", { timeout: 120_000 }, () => {
  let dataDir: string;
  let server: ServedProcess | undefined;
  const tmpFiles = () => fs.readdirSync(path.join(dataDir, "blobs", "tmp"));

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-stop-"));
  });
  afterEach(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill("SIGKILL");
      await server.exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const start = (settings: Record<string, string>) => startServed([], { SWITCHBOARD_DATA_DIR: dataDir, ...settings });

  it("answers /readyz with 503 at once and keeps serving through the delay, closing every connection after its response", async () => {
    server = await start({ SWITCHBOARD_SHUTDOWN_DELAY_SECONDS: "600" });
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect(await get(`${server.baseUrl}/readyz`, keepAlive)).toMatchObject({ status: 200, connection: "keep-alive" });
    const idle = Object.values(keepAlive.freeSockets).flat()[0]!;
    const idleClosed = new Promise<void>((resolve) => idle.once("close", () => resolve()));

    server.child.kill("SIGTERM");
    await server.waitFor("stopping on SIGTERM: /readyz answers 503");
    // The idle keep-alive connection is left open through the delay (a balancer may be sending on
    // it before it has noticed /readyz: closing it would fail that request); its next answer closes it.
    expect(idle.destroyed).toBe(false);
    expect(await get(`${server.baseUrl}/readyz`, keepAlive)).toEqual({ status: 503, connection: "close", body: '{"status":"stopping","checks":{}}' });
    await idleClosed;
    expect(await get(`${server.baseUrl}/readyz`)).toEqual({ status: 503, connection: "close", body: '{"status":"stopping","checks":{}}' });
    const account = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`${server!.baseUrl}/v2/me/account`, { agent: false, headers: { authorization: server!.demoApi! } }, resolve),
    );
    expect(account.statusCode).toBe(200);
    expect(account.headers.connection).toBe("close");
    account.resume();

    // A second signal ends the delay at once; nothing was in flight.
    server.child.kill("SIGTERM");
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output()).toContain("stopped: every request finished");
    keepAlive.destroy();
  });

  it("stops accepting, lets a request in flight finish within the grace period, then exits 0", async () => {
    server = await start({ SWITCHBOARD_SHUTDOWN_GRACE_SECONDS: "600" });
    const upload = slowUpload(server);
    await vi.waitFor(() => expect(tmpFiles()).toHaveLength(1));

    server.child.kill("SIGTERM");
    await server.waitFor("stopping on SIGTERM");
    await expect(get(`${server.baseUrl}/readyz`)).rejects.toThrow(/ECONNREFUSED/);
    upload.finish();
    expect(await upload.answer).toEqual({ status: 200, connection: "close", body: '{"id":1}' });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output()).toContain("stopped: every request finished");
    expect(tmpFiles()).toEqual([]);
  });

  it("cuts what still runs when the grace period ends, removes its temp file and says so, exiting 1", async () => {
    server = await start({ SWITCHBOARD_SHUTDOWN_GRACE_SECONDS: "1" });
    const upload = slowUpload(server);
    await vi.waitFor(() => expect(tmpFiles()).toHaveLength(1));

    server.child.kill("SIGTERM");
    expect(await server.exited).toEqual({ code: 1, signal: null });
    expect(await upload.answer).toMatchObject({ error: expect.any(String) });
    expect(server.output()).toContain("stopped: requests still running 1 s after SIGTERM; 1 request(s) cut, temp files of unfinished uploads removed");
    expect(tmpFiles()).toEqual([]);
  });

  it("exits at once on a second signal, still removing temp files and saying so", async () => {
    server = await start({ SWITCHBOARD_SHUTDOWN_GRACE_SECONDS: "3600" });
    const upload = slowUpload(server);
    await vi.waitFor(() => expect(tmpFiles()).toHaveLength(1));

    server.child.kill("SIGINT");
    await server.waitFor("stopping on SIGINT");
    server.child.kill("SIGINT");
    expect(await server.exited).toEqual({ code: 1, signal: null });
    expect(await upload.answer).toMatchObject({ error: expect.any(String) });
    expect(server.output()).toContain("stopped: second signal SIGINT; 1 request(s) cut, temp files of unfinished uploads removed");
    expect(tmpFiles()).toEqual([]);
  });
});
