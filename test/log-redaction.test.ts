import fs from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestAccount, startTestApp, type TestApp } from "./support/app.js";
import { fixture, upload } from "./support/media.js";

describe("the access log", () => {
  it("writes one line per request at info level, when it completes, with its id, method, URL, status and duration", async () => {
    const logStream = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    logStream.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean).map((line) => JSON.parse(line))));
    const app = await startTestApp("sqlite", { logStream });
    try {
      const account = await createTestAccount(app);
      const seen = lines.length;
      const answers = [
        await fetch(`${app.baseUrl}/v2/me/account`, { headers: { authorization: account.api } }),
        await fetch(`${app.baseUrl}/v2/me/account`),
        await fetch(`${app.baseUrl}/v2/no-such-thing?x=1`, { headers: { authorization: account.api } }),
        await fetch(`${app.baseUrl}/v2/media/%zz`, { headers: { authorization: account.api } }),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([200, 401, 404, 400]);
      await vi.waitFor(() => expect(lines.length - seen).toBeGreaterThanOrEqual(4));
      await new Promise((resolve) => setTimeout(resolve, 50)); // any second line per request would be out by now
      const requestLines = lines.slice(seen).filter((line) => line.req !== undefined || line.res !== undefined);
      expect(requestLines.map(({ level, msg, req, res }) => ({ level, msg, method: (req as { method: string }).method, url: (req as { url: string }).url, status: (res as { statusCode: number }).statusCode }))).toEqual([
        { level: 30, msg: "request completed", method: "GET", url: "/v2/me/account", status: 200 },
        { level: 30, msg: "request completed", method: "GET", url: "/v2/me/account", status: 401 },
        { level: 30, msg: "request completed", method: "GET", url: "/v2/no-such-thing?x=1", status: 404 },
        { level: 30, msg: "request completed", method: "GET", url: "/v2/media/%zz", status: 400 },
      ]);
      for (const line of requestLines) {
        expect(line.reqId).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
        expect(line.responseTime).toBeTypeOf("number");
      }
      expect(new Set(requestLines.map((line) => line.reqId)).size).toBe(4);
    } finally {
      await app.close();
    }
  });
});

describe("public media keys in the log", () => {
  let app: TestApp;
  let key: string;
  let log = "";

  beforeAll(async () => {
    const logStream = new PassThrough();
    logStream.on("data", (chunk: Buffer) => (log += chunk.toString()));
    app = await startTestApp("sqlite", { logStream });
    const account = await createTestAccount(app);
    const { json } = await upload(app, account.api, fixture("image.png"), { filename: "secret.png" });
    const media = await (await fetch(`${app.baseUrl}/v2/media/${json.id}`, { headers: { authorization: account.api } })).json();
    key = /\/v2\/media\/public\/([^.]+)\.png$/.exec(media.publicUrl)![1]!;
  });
  afterAll(() => app.close());

  const spellings = () => [
    `/v2/media/public/${key}.png`,
    `/v2/media/public/${key}.png?download=1`,
    `/v2/media/public/..%2F${key}.png`,
    `/v2/media/public/..%252F${key}.png`,
    `/v2/media%2Fpublic%2F${key}.png`,
    `/v2//media//public//${key}.png`,
    `/v2/media/%70ublic/${key}.png`,
    `/v2/media/%2570ublic/${key}.png`,
    `/V2/MEDIA/PUBLIC/${key}.PNG`,
    `/v2/media/public/${key}`,
    `/v2/media/public/${key}.png/more`,
    `/v2/media/public/%${key}.png`,
    `/v2/media/public/%${key.charCodeAt(0).toString(16)}${key.slice(1)}.png`,
  ];

  it("never logs the key, however the URL spells it, served or not", async () => {
    for (const url of spellings()) {
      for (const method of ["GET", "HEAD", "POST"]) await fetch(`${app.baseUrl}${url}`, { method });
    }
    await vi.waitFor(() => expect(log.split("\n").filter((line) => line.includes('"request completed"')).length).toBeGreaterThanOrEqual(spellings().length * 3));
    expect(log).toContain("/v2/media/public/[redacted]");
    expect(log).not.toContain(key);
    expect(log).not.toContain(key.slice(1));
  });

  it("never logs the key of a download that fails with 500", async () => {
    const blobs = path.join(app.dataDir, "blobs");
    for (const file of fs.readdirSync(blobs, { recursive: true }) as string[]) {
      if (fs.statSync(path.join(blobs, file)).isFile()) fs.rmSync(path.join(blobs, file));
    }
    expect((await fetch(`${app.baseUrl}/v2/media/public/${key}.png`)).status).toBe(500);

    await vi.waitFor(() => expect(log).toContain('"request failed"'));
    expect(log).not.toContain(key);
  });
});
