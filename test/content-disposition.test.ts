import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { ingestCall, uploadRecording } from "./support/calls.js";
import { fixture, upload } from "./support/media.js";

describeEachDialect("Content-Disposition of downloads", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  beforeAll(async () => {
    app = await startTestApp(dialect);
    alice = await createTestAccount(app);
  });
  afterAll(() => app.close());

  const disposition = async (path: string) => (await fetch(`${app.baseUrl}${path}`, { method: "HEAD", headers: { authorization: alice.api } })).headers.get("content-disposition");

  it("percent-encodes ' ( ) * and everything else outside RFC 8187's attr-char in filename*", async () => {
    const { json } = await upload(app, alice.api, fixture("image.gif"), { filename: "x.gif", name: `it's (final) *draft* 100% "é".gif` });
    expect(await disposition(`/v2/media/${json.id}.gif`)).toBe(
      `inline; filename="it's (final) *draft* 100% ___.gif"; filename*=UTF-8''it%27s%20%28final%29%20%2Adraft%2A%20100%25%20%22%C3%A9%22.gif`,
    );
    expect(await disposition(`/v2/media/${json.id}/file`)).toBe(
      `inline; filename="it's (final) *draft* 100% ___.gif"; filename*=UTF-8''it%27s%20%28final%29%20%2Adraft%2A%20100%25%20%22%C3%A9%22.gif`,
    );
  });

  it("keeps attr-char as it is", async () => {
    const { json } = await upload(app, alice.api, fixture("image.bmp"), { filename: "x.bmp", name: "a!#$&+-.^_`|~z.bmp" });
    expect(await disposition(`/v2/media/${json.id}.bmp`)).toBe("inline; filename=\"a!#$&+-.^_`|~z.bmp\"; filename*=UTF-8''a!#$&+-.^_`|~z.bmp");
  });

  it("encodes a recording's name too, even one sent with a lone surrogate (stored as U+FFFD)", async () => {
    const callId = (await ingestCall(app, alice.id)).json.id;
    const created = await call(app, "POST", `/admin/v1/calls/${callId}/recordings`, {
      rawBody: '{"name":"a\\ud800(b)","state":"RECORDING"}',
      headers: { "content-type": "application/json", authorization: `Bearer ${app.adminToken}` },
    });
    expect(created.status).toBe(201);
    expect((await uploadRecording(app, "PUT", `/recordings/${created.json.id}/audio`, fixture("tone.mp3"))).status).toBe(200);
    const response = await fetch(`${app.baseUrl}/v2/calls/recordings/${created.json.id}.mp3`, { headers: { authorization: alice.api } });
    expect(response.status).toBe(200);
    // SQLite keeps the surrogate's three bytes, PostgreSQL one U+FFFD: each comes back as U+FFFD.
    expect(response.headers.get("content-disposition")).toMatch(/^inline; filename="a_+\(b\)\.mp3"; filename\*=UTF-8''a(%EF%BF%BD)+%28b%29\.mp3$/);
  });
});
