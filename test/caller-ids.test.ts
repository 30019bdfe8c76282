import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, createTestAccount, describeEachDialect, openTestDatabase, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { startAppOn, testClock } from "./support/caller-ids.js";
import { sqliteWriter } from "./support/sqlite-writer.js";

const expected = "expected E.164 digits with or without +, such as 12135551189 or +442079460958 (a bare 10-digit number is North American)";
const json = { "content-type": "application/json" };

describeEachDialect("caller IDs", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  let bob: TestAccount;
  const clock = testClock();
  // Each test uses numbers of its own, so the per-number throttle never links two tests.
  let nextNumber = 0;
  const freshNumber = () => `1213555${String(1000 + nextNumber++)}`;

  beforeAll(async () => {
    app = await startTestApp(dialect, { now: clock.now });
    alice = await createTestAccount(app);
    bob = await createTestAccount(app);
  });
  afterAll(() => app.close());

  const send = (account: TestAccount, number: string) =>
    call(app, "POST", `/v2/me/callerids/${number}`, { auth: account.api, headers: json });
  const verify = (account: TestAccount, number: string, body: unknown) =>
    call(app, "POST", `/v2/me/callerids/${number}/verification-code`, { auth: account.api, rawBody: JSON.stringify(body), headers: json });
  const outbox = async (query: string) => (await call(app, "GET", `/admin/v1/outbox?${query}`, { auth: `Bearer ${app.adminToken}` })).json;
  /** The code of the newest call to `number`, read as an operator would. */
  const codeSentTo = async (account: TestAccount, number: string): Promise<string> =>
    (await outbox(`accountId=${account.id}&to=${number}&limit=1`)).items[0].code;
  const listed = async (account: TestAccount) => (await call(app, "GET", "/v2/me/callerids", { auth: account.api })).json;

  it("lists no caller ids as an empty list", async () => {
    const { status, json: body, headers } = await call(app, "GET", "/v2/me/callerids", { auth: bob.api });
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(body).toEqual({ items: [] });
  });

  it("sends a code by a queued call, answers false to a wrong code and true to the right one, then lists the number", async () => {
    const number = freshNumber();
    const sent = await send(alice, number);
    expect(sent).toMatchObject({ status: 200, text: "" });

    const queued = await outbox(`accountId=${alice.id}&to=${number}`);
    expect(queued.totalCount).toBe(1);
    const [entry] = queued.items;
    expect(entry).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: "callerIdVerification",
      accountId: alice.id,
      to: number,
      code: expect.stringMatching(/^[1-9]\d{5}$/),
      message: expect.any(String),
      codeExpiresAt: clock.now() + 600_000,
      status: "PENDING",
      attempts: 0,
      nextAttemptAt: clock.now(),
      created: clock.now(),
      updated: clock.now(),
    });
    const spoken = entry.code.split("").join(", ");
    expect(entry.message).toBe(`Your caller ID verification code is ${spoken}. Again, your code is ${spoken}.`);

    const wrong = entry.code === "999999" ? "111111" : "999999";
    const failed = await verify(alice, number, { verificationCode: wrong });
    expect(failed).toMatchObject({ status: 200, text: "false" });
    expect(failed.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect((await listed(alice)).items).not.toContainEqual({ phoneNumber: number });

    const verified = await verify(alice, number, { verificationCode: entry.code });
    expect(verified).toMatchObject({ status: 200, text: "true" });
    expect((await listed(alice)).items).toContainEqual({ phoneNumber: number });
    const selected = await call(app, "GET", "/v2/me/callerids?fields=items(phoneNumber)", { auth: alice.login });
    expect(selected.json.items).toContainEqual({ phoneNumber: number });
  });

  it("treats 12135551189, +12135551189 and 2135551189 as one number, stored as 11 digits", async () => {
    const number = freshNumber();
    expect((await send(alice, number.slice(1))).status).toBe(200);
    const code = await codeSentTo(alice, number);
    expect((await send(alice, `%2B${number}`)).status).toBe(429);
    expect((await verify(alice, `+${number}`, { verificationCode: code })).json).toBe(true);
    expect((await send(alice, number)).json.message).toBe(`caller id ${number} needs no code: that is already verified`);
    expect((await listed(alice)).items.filter((c: { phoneNumber: string }) => c.phoneNumber === number)).toHaveLength(1);
  });

  it("accepts another country's number in E.164 and returns it as digits", async () => {
    expect((await send(alice, "+442079460958")).status).toBe(200);
    const code = await codeSentTo(alice, "442079460958");
    expect((await verify(alice, "442079460958", { verificationCode: code })).json).toBe(true);
    expect((await listed(alice)).items).toContainEqual({ phoneNumber: "442079460958" });
  });

  it.each([
    ["letters", "abc", `callerid: "abc" is not a phone number: ${expected}`],
    ["a number written with spaces", encodeURIComponent("+44 20 7946 0958"), `callerid: "+44 20 7946 0958" is not a phone number: ${expected}`],
    ["15 digits", "123456789012345", `callerid: "123456789012345" is not a valid phone number: ${expected}`],
    ["+ and 15 digits", "+123456789012345", `callerid: "+123456789012345" is not a valid phone number: ${expected}`],
    ["a North American number that does not exist", "0005551189", `callerid: "0005551189" is not a valid phone number: ${expected}`],
    ["16 digits", "1234567890123456", `callerid: "1234567890123456" is not a phone number: ${expected}`],
    ["40 digits", "1".repeat(40), "path parameter callerid: must NOT have more than 16 characters"],
    ["10 KB", "1".repeat(10_240), "path parameter: must NOT have more than 100 characters"],
    ["a broken percent-encoding", "%E0%A4%A", "the URL path is not validly percent-encoded"],
  ])("refuses %s as a caller id with 400, to send and to verify", async (_label, callerId, message) => {
    const queued = (await outbox(`accountId=${alice.id}`)).totalCount;
    for (const response of [await send(alice, callerId), await verify(alice, callerId, { verificationCode: "123456" })]) {
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ httpStatusCode: 400, internalCode: 0, message });
    }
    expect((await outbox(`accountId=${alice.id}`)).totalCount).toBe(queued);
  });

  it("refuses an empty caller id with 400, to send and to verify", async () => {
    for (const response of [await send(alice, ""), await verify(alice, "", { verificationCode: "123456" })]) {
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ httpStatusCode: 400, internalCode: 0, message: "path parameter callerid: must NOT have fewer than 1 characters" });
    }
  });

  it("refuses to send a code to a number that is already verified", async () => {
    const number = freshNumber();
    await send(alice, number);
    await verify(alice, number, { verificationCode: await codeSentTo(alice, number) });
    clock.advance(61_000);
    const again = await send(alice, number);
    expect(again.status).toBe(400);
    expect(again.json.message).toContain("that is already verified");
  });

  it("answers true again to the code that verified a number, and false to any other code", async () => {
    const number = freshNumber();
    await send(alice, number);
    const code = await codeSentTo(alice, number);
    expect((await verify(alice, number, { verificationCode: code })).json).toBe(true);
    // A client that lost the first answer retries, perhaps as a JSON number.
    expect(await verify(alice, number, { verificationCode: code })).toMatchObject({ status: 200, text: "true" });
    expect((await verify(alice, number, { verificationCode: Number(code) })).json).toBe(true);
    const wrong = code === "999999" ? "111111" : "999999";
    for (let attempt = 1; attempt <= 6; attempt++) {
      expect(await verify(alice, number, { verificationCode: wrong })).toMatchObject({ status: 200, text: "false" });
    }
    // Wrong codes on a verified number count nothing: it stays verified and its code still answers true.
    expect((await verify(alice, number, { verificationCode: code })).json).toBe(true);
    expect((await listed(alice)).items).toContainEqual({ phoneNumber: number });
    // The code belongs to this account's number only.
    expect((await verify(bob, number, { verificationCode: code })).json).toBe(false);
  });

  it("replaces a pending code with a new one, and no longer places the old call", async () => {
    const number = freshNumber();
    await send(alice, number);
    const first = await codeSentTo(alice, number);
    clock.advance(60_000);
    expect((await send(alice, number)).status).toBe(200);
    const second = await codeSentTo(alice, number);

    const calls = (await outbox(`accountId=${alice.id}&to=${number}`)).items;
    expect(calls.map((c: { status: string }) => c.status)).toEqual(["PENDING", "FAILED"]);
    expect(calls[1]).not.toHaveProperty("code");
    expect(calls[1]).not.toHaveProperty("message");
    expect(calls[1].lastError).toBe("superseded by a newer code");

    if (first !== second) expect((await verify(alice, number, { verificationCode: first })).json).toBe(false);
    expect((await verify(alice, number, { verificationCode: second })).json).toBe(true);
  });

  it("disables a code after 5 wrong attempts", async () => {
    const number = freshNumber();
    await send(alice, number);
    const code = await codeSentTo(alice, number);
    const wrong = code === "999999" ? "111111" : "999999";
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect((await verify(alice, number, { verificationCode: wrong })).json).toBe(false);
    }
    expect(await verify(alice, number, { verificationCode: code })).toMatchObject({ status: 200, text: "false" });
    expect((await listed(alice)).items).not.toContainEqual({ phoneNumber: number });
    const [entry] = (await outbox(`to=${number}`)).items;
    expect(entry).toMatchObject({ status: "FAILED", lastError: "the code was disabled after 5 wrong attempts" });
    expect(entry).not.toHaveProperty("code");

    clock.advance(60_000);
    await send(alice, number);
    expect((await verify(alice, number, { verificationCode: await codeSentTo(alice, number) })).json).toBe(true);
  });

  it("expires a code 10 minutes after it was sent", async () => {
    const [early, late] = [freshNumber(), freshNumber()];
    await send(alice, early);
    await send(alice, late);
    const [earlyCode, lateCode] = [await codeSentTo(alice, early), await codeSentTo(alice, late)];
    clock.advance(600_000 - 1);
    expect((await verify(alice, early, { verificationCode: earlyCode })).json).toBe(true);
    clock.advance(1);
    expect(await verify(alice, late, { verificationCode: lateCode })).toMatchObject({ status: 200, text: "false" });
    expect((await listed(alice)).items).not.toContainEqual({ phoneNumber: late });
    clock.advance(60_000);
    expect((await send(alice, late)).status).toBe(200);
    expect((await verify(alice, late, { verificationCode: await codeSentTo(alice, late) })).json).toBe(true);
  });

  it.each([
    ["CallFire's JS sample code, as a JSON number", 1234],
    ["the C# integration test's code", "123"],
    ["a code of 6 digits", "123456"],
  ])("answers false to %s for a number with no code sent", async (_label, verificationCode) => {
    expect(await verify(alice, freshNumber(), { verificationCode })).toMatchObject({ status: 200, text: "false" });
  });

  it("counts each of concurrent wrong codes: after 5 at once the right code is false, after 4 it is true", async () => {
    for (const [wrongAtOnce, outcome] of [[5, false], [4, true]] as const) {
      const number = freshNumber();
      await send(alice, number);
      const code = await codeSentTo(alice, number);
      const wrong = code === "999999" ? "111111" : "999999";
      const answers = await Promise.all(Array.from({ length: wrongAtOnce }, () => verify(alice, number, { verificationCode: wrong })));
      expect(answers.map((a) => a.text)).toEqual(Array(wrongAtOnce).fill("false"));
      expect((await verify(alice, number, { verificationCode: code })).json).toBe(outcome);
    }
  });

  describe("the verification request", () => {
    let number: string;
    let code: string;
    beforeAll(async () => {
      number = freshNumber();
      await send(alice, number);
      code = await codeSentTo(alice, number);
    });

    it.each([
      ["letters", { verificationCode: "12a456" }, 'verificationCode: "12a456" is not a verification code: expected the digits the call said'],
      ["an empty code", { verificationCode: "" }, 'verificationCode: "" is not a verification code: expected the digits the call said'],
      ["a code with a space", { verificationCode: " 123456" }, 'verificationCode: " 123456" is not a verification code: expected the digits the call said'],
      ["a null code", { verificationCode: null }, "body verificationCode: must be string or must be integer"],
      ["a negative number", { verificationCode: -123456 }, "body verificationCode: must be string or must be >= 0"],
      ["a fraction", { verificationCode: 1234.5 }, "body verificationCode: must be string or must be integer"],
      ["no code", {}, "body field verificationCode: is required"],
      ["a body of null", null, "body: must be object"],
      ["a JSON array", ["123456"], "body: must be object"],
      ["a code of 100 characters", { verificationCode: "1".repeat(100) }, "body verificationCode: must NOT have more than 64 characters or must be integer"],
    ])("refuses %s with 400 without counting an attempt", async (_label, body, message) => {
      const response = await verify(alice, number, body);
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ httpStatusCode: 400, internalCode: 0, message });
    });

    it("refuses a missing body with 400", async () => {
      const response = await call(app, "POST", `/v2/me/callerids/${number}/verification-code`, { auth: alice.api, headers: json });
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ httpStatusCode: 400, internalCode: 0, message: "body: must be object" });
    });

    it("answers false to codes of digits of another length, and counts them", async () => {
      // Four of the five allowed attempts; the refusals above counted none.
      for (const verificationCode of ["12345", "1234567", 1234, "0".repeat(64)]) {
        expect(await verify(alice, number, { verificationCode })).toMatchObject({ status: 200, text: "false" });
      }
    });

    it("accepts the code as a JSON number, as CallFire's JS and Python samples send it", async () => {
      expect((await verify(alice, number, { verificationCode: Number(code) })).json).toBe(true);
    });
  });

  describe("throttles", () => {
    it("allows one send per number per minute, with Retry-After", async () => {
      const number = freshNumber();
      expect((await send(alice, number)).status).toBe(200);
      const refused = await send(alice, number);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("60");
      expect(refused.json).toEqual({
        httpStatusCode: 429,
        internalCode: 0,
        message: `a verification call to ${number} was queued less than 60 s ago; try again in 60 s`,
      });
      clock.advance(59_500);
      expect((await send(alice, number)).headers.get("retry-after")).toBe("1");
      clock.advance(500);
      expect((await send(alice, number)).status).toBe(200);
      expect((await outbox(`to=${number}`)).totalCount).toBe(2);
    });

    it("allows 20 sends per account per hour, with Retry-After", async () => {
      const carol = await createTestAccount(app);
      const start = clock.now();
      for (let i = 0; i < 20; i++) {
        expect((await send(carol, freshNumber())).status).toBe(200);
        clock.advance(60_000);
      }
      const refused = await send(carol, freshNumber());
      expect(refused.status).toBe(429);
      // The first send leaves the hour at start + 1 h; the clock is at start + 20 min.
      expect(refused.headers.get("retry-after")).toBe(String(40 * 60));
      expect(refused.json.message).toBe("this account has queued 20 verification calls in the last hour; try again in 2400 s");
      expect((await send(bob, freshNumber())).status).toBe(200);

      clock.advance(start + 3_600_000 - clock.now());
      expect((await send(carol, freshNumber())).status).toBe(200);
      expect((await send(carol, freshNumber())).status).toBe(429);
      expect((await outbox(`accountId=${carol.id}`)).totalCount).toBe(21);
    });

    it("holds against concurrent sends", async () => {
      const dave = await createTestAccount(app);
      const number = freshNumber();
      const sameNumber = await Promise.all(Array.from({ length: 5 }, () => send(dave, number)));
      expect(sameNumber.map((r) => r.status).sort()).toEqual([200, 429, 429, 429, 429]);

      clock.advance(60_000);
      const manyNumbers = await Promise.all(Array.from({ length: 25 }, () => send(dave, freshNumber())));
      expect(manyNumbers.filter((r) => r.status === 200)).toHaveLength(19);
      expect(manyNumbers.filter((r) => r.status === 429)).toHaveLength(6);
      expect((await outbox(`accountId=${dave.id}`)).totalCount).toBe(20);
    });
  });

  describe("tenancy", () => {
    it("keeps each account's caller ids and codes to itself", async () => {
      const number = freshNumber();
      await send(alice, number);
      const aliceCode = await codeSentTo(alice, number);

      expect(await verify(bob, number, { verificationCode: aliceCode })).toMatchObject({ status: 200, text: "false" });

      // Bob's own verification of the same number is separate, and his wrong codes are his.
      expect((await send(bob, number)).status).toBe(200);
      const bobCode = await codeSentTo(bob, number);
      const wrong = [aliceCode, bobCode].includes("999999") ? (["111111", "222222"].find((c) => c !== aliceCode && c !== bobCode) as string) : "999999";
      for (let i = 0; i < 5; i++) await verify(bob, number, { verificationCode: wrong });
      expect((await verify(alice, number, { verificationCode: aliceCode })).json).toBe(true);

      expect((await listed(alice)).items).toContainEqual({ phoneNumber: number });
      expect((await listed(bob)).items).not.toContainEqual({ phoneNumber: number });
      expect((await outbox(`accountId=${bob.id}&to=${number}`)).items.map((c: { accountId: number }) => c.accountId)).toEqual([bob.id]);
    });
  });

  describe("operator outbox", () => {
    it("needs the admin token", async () => {
      const response = await call(app, "GET", "/admin/v1/outbox", { auth: alice.login });
      expect(response.status).toBe(401);
    });

    it("filters by account, number and status, newest first, paged", async () => {
      const erin = await createTestAccount(app);
      const numbers = [freshNumber(), freshNumber(), freshNumber()];
      for (const number of numbers) await send(erin, number);
      await verify(erin, numbers[0]!, { verificationCode: await codeSentTo(erin, numbers[0]!) });

      const all = await outbox(`accountId=${erin.id}`);
      expect(all).toMatchObject({ limit: 100, offset: 0, totalCount: 3 });
      expect(all.items.map((c: { to: string }) => c.to)).toEqual([...numbers].reverse());
      const page = await outbox(`accountId=${erin.id}&limit=1&offset=1`);
      expect(page.items.map((c: { to: string }) => c.to)).toEqual([numbers[1]]);
      const failed = await outbox(`accountId=${erin.id}&status=FAILED`);
      expect(failed.items).toEqual([expect.objectContaining({ to: numbers[0], lastError: "the number was verified before this call was placed" })]);
      const byNumber = await outbox(`to=%2B${numbers[2]}`);
      expect(byNumber.items.map((c: { accountId: number }) => c.accountId)).toEqual([erin.id]);
    });

    it.each(["abc", "", "1".repeat(40), "0005551189", "%2B44%2020%207946%200958"])("matches no call with to=%s, which is no phone number", async (to) => {
      const erin = await createTestAccount(app);
      await send(erin, freshNumber());
      const response = await call(app, "GET", `/admin/v1/outbox?accountId=${erin.id}&to=${to}`, { auth: `Bearer ${app.adminToken}` });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ items: [], limit: 100, offset: 0, totalCount: 0 });
    });

    it.each([
      ["status=LOST", "query parameter status: must be equal to one of the allowed values"],
      ["accountId=x", "query parameter accountId: must be integer"],
    ])("refuses %s with 400", async (query, message) => {
      const response = await call(app, "GET", `/admin/v1/outbox?${query}`, { auth: `Bearer ${app.adminToken}` });
      expect(response.status).toBe(400);
      expect(response.json.message).toBe(message);
    });
  });
});

describe("caller IDs with the log transport", () => {
  it("places each call as one log line that carries the number and the code", async () => {
    const lines: string[] = [];
    const logStream = new PassThrough();
    logStream.on("data", (chunk: Buffer) => lines.push(...chunk.toString("utf8").trim().split("\n")));
    const app = await startTestApp("sqlite", { logStream });
    try {
      const account = await createTestAccount(app);
      await call(app, "POST", "/v2/me/callerids/12135551189", { auth: account.api });
      expect(await app.services.callDelivery.deliverDue()).toBe(1);
      const [entry] = (await app.services.outbox.list({}, { limit: 1, offset: 0 })).items;
      expect(entry).toMatchObject({ status: "SENT", attempts: 1 });

      const placed = lines.map((line) => JSON.parse(line)).filter((line) => line.callId !== undefined);
      expect(placed).toEqual([
        expect.objectContaining({
          level: 30,
          callId: entry!.id,
          to: "12135551189",
          code: entry!.code,
          msg: `verification call to +12135551189: "${entry!.message}"`,
        }),
      ]);
    } finally {
      await app.close();
    }
  });
});

describe("the published contract for caller IDs", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp("sqlite");
  });
  afterAll(() => app.close());

  it("publishes CallFire's operations and definitions", async () => {
    const { json: swagger } = await call(app, "GET", "/v2/api-docs/swagger.json");
    expect(swagger.paths["/me/callerids"].get).toMatchObject({ operationId: "getCallerIds", tags: ["me"] });
    expect(swagger.paths["/me/callerids/{callerid}"].post).toMatchObject({ operationId: "sendVerificationCodeToCallerId", tags: ["me"] });
    const verifyOp = swagger.paths["/me/callerids/{callerid}/verification-code"].post;
    expect(verifyOp).toMatchObject({ operationId: "verifyCallerId", tags: ["me"] });
    expect(verifyOp.responses["200"].schema).toMatchObject({ type: "boolean" });
    expect(verifyOp.parameters).toContainEqual(expect.objectContaining({ in: "body", schema: { $ref: "#/definitions/CallerIdVerificationRequest" } }));
    expect(swagger.definitions.CallerId).toMatchObject({ type: "object", properties: { phoneNumber: { type: "string" } } });
    expect(swagger.definitions.CallerIdList.properties.items).toEqual({ type: "array", items: { $ref: "#/definitions/CallerId" } });
    expect(swagger.definitions.CallerIdVerificationRequest).toMatchObject({
      type: "object",
      required: ["verificationCode"],
      properties: { verificationCode: { type: "string" } },
    });
  });
});

describe("caller IDs while the CLI writes the same SQLite file", () => {
  let app: TestApp;
  let alice: TestAccount;
  let cli: ReturnType<typeof sqliteWriter>;
  let closeDatabase: () => Promise<void>;
  // Any commit moves the file past the server's snapshot; this one is `account set-name`-like.
  const cliRename = () => `update account set name = name || ' (renamed by the CLI)' where id = ${alice.id}`;
  const send = (number: string) => call(app, "POST", `/v2/me/callerids/${number}`, { auth: alice.api, headers: json });

  beforeAll(async () => {
    const { database, dataDir, drop } = await openTestDatabase("sqlite");
    cli = sqliteWriter(path.join(dataDir, "switchboard.db"));
    app = await startAppOn({ ...database, db: database.db.withPlugin(cli.plugin) });
    alice = await createTestAccount(app);
    closeDatabase = async () => {
      cli.close();
      await database.close();
      await drop();
    };
  });
  afterAll(async () => {
    await app.close();
    await closeDatabase();
  });

  it("sends a code when the CLI commits between the server's first read and its write", async () => {
    const committed = cli.commitAfterNextRead("caller_id", cliRename());
    expect(await send("12135552001")).toMatchObject({ status: 200, text: "" });
    await committed;
    expect((await app.services.outbox.list({ to: "12135552001" }, { limit: 10, offset: 0 })).totalCount).toBe(1);
  });

  it("counts a wrong code when the CLI commits between the server's first read and its write", async () => {
    expect((await send("12135552002")).status).toBe(200);
    const committed = cli.commitAfterNextRead("caller_id", cliRename());
    const body = JSON.stringify({ verificationCode: "000000" });
    const answer = await call(app, "POST", "/v2/me/callerids/12135552002/verification-code", { auth: alice.api, rawBody: body, headers: json });
    expect(answer).toMatchObject({ status: 200, text: "false" });
    await committed;
  });

  it("claims due calls when the CLI commits between the worker's read and its write", async () => {
    await app.services.callDelivery.deliverDue();
    expect((await send("12135552003")).status).toBe(200);
    const committed = cli.commitAfterNextRead("call_outbox", cliRename());
    expect(await app.services.callDelivery.deliverDue()).toBe(1);
    await committed;
  });
});
