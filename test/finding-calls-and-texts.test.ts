import { Migrator, sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openDatabase } from "../src/db/database.js";
import { migrationProvider } from "../src/db/migrations/index.js";
import { call, createTestAccount, describeEachDialect, postgresUrl, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { persistentTestDatabase } from "./support/caller-ids.js";
import { admin, ingestCall } from "./support/calls.js";
import { fixture, upload } from "./support/media.js";
import { addCredits, sendCalls, verifyCallerId } from "./support/sending.js";

describeEachDialect("findCalls, getCall, findTexts and getText", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  let bob: TestAccount;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    app = await startTestApp(dialect);
    alice = await createTestAccount(app);
    bob = await createTestAccount(app);
    const at = Date.now();
    ids.ingested = (await ingestCall(app, alice.id, { fromNumber: "12135551189", toNumber: "13105550100", startTime: at, durationSeconds: 30, campaignId: 15, labels: ["vip", "west"] })).json.id;
    ids.inbound = (await ingestCall(app, alice.id, { fromNumber: "13105550100", toNumber: "12135551189", startTime: at, durationSeconds: 0, inbound: true })).json.id;
    ids.busy = (await ingestCall(app, alice.id, { fromNumber: "12135551189", toNumber: "13105550101", startTime: at, durationSeconds: 0, result: "BUSY", labels: ["west"] })).json.id;
    await verifyCallerId(app, alice, "12135551189");
    await addCredits(app, alice, 100);
    const sent = await sendCalls(app, alice, [{ phoneNumber: "13105550102", liveMessage: "hi" }], "?campaignId=16");
    ids.sent = sent.json.items[0].id;
    ids.batch = sent.json.items[0].batchId;
    ids.bobs = (await ingestCall(app, bob.id)).json.id;
  });
  afterAll(() => app.close());

  const find = async (query: string, account = alice) => {
    const { status, json } = await call(app, "GET", `/v2/calls${query}`, { auth: account.api });
    expect(status).toBe(200);
    return json;
  };
  const idsOf = async (query: string) => (await find(query)).items.map((c: any) => c.id);

  it("lists the account's calls newest first, ingested and sent alike, in CallFire's page", async () => {
    const page = await find("");
    expect(page).toMatchObject({ limit: 100, offset: 0, totalCount: 4 });
    expect(page.items.map((c: any) => c.id)).toEqual([ids.sent, ids.busy, ids.inbound, ids.ingested]);
    expect(page.items[3]).toEqual({
      id: ids.ingested,
      fromNumber: "12135551189",
      toNumber: "13105550100",
      state: "FINISHED",
      campaignId: 15,
      inbound: false,
      created: expect.any(Number),
      modified: expect.any(Number),
      labels: ["vip", "west"],
      finalCallResult: "LA",
      records: [{ id: ids.ingested, billedAmount: 1, finishTime: expect.any(Number), result: "LA", callResult: "LA" }],
      agentCall: false,
    });
    expect(await find("?limit=2&offset=1")).toMatchObject({ limit: 2, offset: 1, totalCount: 4, items: [{ id: ids.busy }, { id: ids.inbound }] });
    expect(await find("?fields=items(id),totalCount&limit=1")).toEqual({ items: [{ id: ids.sent }], totalCount: 4 });
    // Full pages are counted: a label alone on its own index, with other filters on the calls'.
    expect(await find("?label=west&limit=1")).toMatchObject({ items: [{ id: ids.busy }], totalCount: 2 });
    expect(await find("?label=west&results=LA,BUSY&limit=1")).toMatchObject({ items: [{ id: ids.busy }], totalCount: 2 });
    expect((await find("?label=west&limit=1", bob)).totalCount).toBe(0);
  });

  it.each([
    ["id (repeated)", () => `?id=${ids.busy}&id=${ids.ingested}&id=${ids.bobs}`, () => [ids.busy, ids.ingested]],
    ["campaignId", () => "?campaignId=15", () => [ids.ingested]],
    ["campaignId=0 (sent without one)", () => "?campaignId=0", () => [ids.busy, ids.inbound]],
    ["batchId", () => `?batchId=${ids.batch}`, () => [ids.sent]],
    ["fromNumber", () => "?fromNumber=13105550100", () => [ids.inbound]],
    ["toNumber", () => "?toNumber=%2B13105550101", () => [ids.busy]],
    ["label", () => "?label=west", () => [ids.busy, ids.ingested]],
    ["states", () => "?states=READY,SELECTED", () => [ids.sent]],
    ["results", () => "?results=BUSY,NO_ANS", () => [ids.busy, ids.inbound]],
    ["results, one page of them", () => "?results=BUSY,NO_ANS,LA&limit=1&offset=1", () => [ids.inbound]],
    ["label and results", () => "?label=west&results=BUSY,LA", () => [ids.busy, ids.ingested]],
    ["states and results", () => "?states=FINISHED,READY&results=LA,NO_ANS", () => [ids.inbound, ids.ingested]],
    ["inbound=true", () => "?inbound=true", () => [ids.inbound]],
    ["inbound=false and results", () => "?inbound=false&results=LA", () => [ids.ingested]],
    ["an interval on created", () => `?intervalBegin=0&intervalEnd=${Date.now() + 60_000}&states=FINISHED`, () => [ids.busy, ids.inbound, ids.ingested]],
    ["an interval in the past", () => "?intervalEnd=1000", () => []],
  ])("filters by %s", async (_label, query, expected) => {
    expect(await idsOf(query())).toEqual(expected());
  });

  it.each([
    ["?states=DONE", "states: \"DONE\" is not one of READY, SELECTED, CALLBACK, FINISHED, DISABLED, DNC, DUP, INVALID, TIMEOUT, PERIOD_LIMIT"],
    ["?results=SENT", /^results: "SENT" is not one of LA, AM, BUSY/],
    ["?toNumber=12", /^toNumber: "12" is not a valid phone number/],
    ["?inbound=maybe", "query parameter inbound: must be boolean"],
    ["?limit=0", "query parameter limit: must be >= 1"],
  ])("refuses %s with 400", async (query, message) => {
    const { status, json } = await call(app, "GET", `/v2/calls${query}`, { auth: alice.api });
    expect(status).toBe(400);
    expect(json.message).toEqual(typeof message === "string" ? message : expect.stringMatching(message));
  });

  it("gets one call; another account's is a 404 exactly like a missing one", async () => {
    expect((await call(app, "GET", `/v2/calls/${ids.sent}`, { auth: alice.api })).json).toMatchObject({ id: ids.sent, state: "READY", campaignId: 16 });
    const foreign = await call(app, "GET", `/v2/calls/${ids.bobs}`, { auth: alice.api });
    const missing = await call(app, "GET", "/v2/calls/999999", { auth: alice.api });
    expect(foreign.status).toBe(404);
    expect(foreign.json).toEqual({ httpStatusCode: 404, internalCode: 0, message: `call ${ids.bobs} not found` });
    expect(missing.json).toEqual({ httpStatusCode: 404, internalCode: 0, message: "call 999999 not found" });
    expect((await find("", bob)).items.map((c: any) => c.id)).toEqual([ids.bobs]);
  });

  it("lists texts the operator ingests, with their media, and keeps count-only usage reports", async () => {
    const image = (await upload(app, alice.api, fixture("image.gif"), { name: "map" })).json.id;
    const inbound = await admin(app, "POST", `/accounts/${alice.id}/texts`, { fromNumber: "13105550100", toNumber: "12135551189", message: "STOP", inbound: true, externalId: "sms-1" });
    expect(inbound.status).toBe(201);
    expect(inbound.json).toMatchObject({ inbound: true, state: "FINISHED", result: "RECEIVED", segments: 1, charge: { texts: 1, credits: 1 } });
    expect((await admin(app, "POST", `/accounts/${alice.id}/texts`, { fromNumber: "13105550100", toNumber: "12135551189", message: "STOP", inbound: true, externalId: "sms-1" })).status).toBe(200);
    const outbound = await admin(app, "POST", `/accounts/${alice.id}/texts`, { fromNumber: "12135551189", toNumber: "13105550100", message: "Here is the map", media: [image] });
    expect(outbound.status).toBe(201);
    const usageOnly = await admin(app, "POST", `/accounts/${alice.id}/texts`, { count: 3 });
    expect(usageOnly).toMatchObject({ status: 201, json: { count: 3, charge: { credits: 3 } } });
    const mixed = await admin(app, "POST", `/accounts/${alice.id}/texts`, { count: 3, message: "hi" });
    expect(mixed.json.message).toBe("message: a report with count is usage only; report a text with fromNumber and toNumber, without count");

    const page = (await call(app, "GET", "/v2/texts", { auth: alice.api })).json;
    expect(page.totalCount).toBe(2);
    expect(page.items[0]).toMatchObject({ id: outbound.json.id, message: "Here is the map", inbound: false, finalTextResult: "SENT", media: [{ id: image, name: "map", mediaType: "image/gif" }] });
    expect(page.items[1]).toMatchObject({ id: inbound.json.id, inbound: true, finalTextResult: "RECEIVED", records: [{ billedAmount: 1, message: "STOP", textResult: "RECEIVED" }] });
    expect((await call(app, "GET", "/v2/texts?inbound=true", { auth: alice.api })).json.items.map((t: any) => t.id)).toEqual([inbound.json.id]);
    expect((await call(app, "GET", `/v2/texts/${inbound.json.id}`, { auth: bob.api })).status).toBe(404);
    const usage = (await call(app, "GET", `/v2/me/billing/credit-usage?intervalEnd=${Date.now() + 1000}`, { auth: alice.api })).json;
    expect(usage.textsSent).toBe(5);
  });

  it("publishes the operations under tags calls and texts with CallFire's definitions", async () => {
    const { json } = await call(app, "GET", "/v2/api-docs/swagger.json");
    const operation = (path: string, method: string) => [json.paths[path][method].operationId, json.paths[path][method].tags];
    expect([operation("/calls", "get"), operation("/calls", "post"), operation("/calls/{id}", "get")]).toEqual([
      ["findCalls", ["calls"]],
      ["sendCalls", ["calls"]],
      ["getCall", ["calls"]],
    ]);
    expect([operation("/texts", "get"), operation("/texts", "post"), operation("/texts/{id}", "get")]).toEqual([
      ["findTexts", ["texts"]],
      ["sendTexts", ["texts"]],
      ["getText", ["texts"]],
    ]);
    expect(Object.keys(json.definitions)).toEqual(
      expect.arrayContaining(["Call", "CallList", "CallPage", "CallRecipient", "CallRecord", "CallRecording", "Text", "TextList", "TextPage", "TextRecipient", "TextRecord", "Media"]),
    );
    const id = json.paths["/calls"].get.parameters.find((p: any) => p.name === "id");
    expect(id).toMatchObject({ in: "query", type: "array", items: { type: "integer" }, collectionFormat: "multi" });
  });
});

describeEachDialect("totalCount of a long list", (dialect) => {
  let app: TestApp;
  afterAll(() => app.close());

  it("counts up to 10,000 matches and says -1 beyond, as CallFire's \"-1 if unknown\"", async () => {
    app = await startTestApp(dialect);
    const alice = await createTestAccount(app);
    const insert = (count: number, toNumber: string) =>
      dialect === "sqlite"
        ? sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${count})
            insert into "call" (account_id, from_number, to_number, start_time, duration_seconds, created) select ${alice.id}, '12135551189', ${toNumber}, i, 0, i from n`
        : sql`insert into "call" (account_id, from_number, to_number, start_time, duration_seconds, created)
            select ${alice.id}, '12135551189', ${toNumber}, i, 0, i from generate_series(1, ${count}) as i`;
    await insert(10_000, "13105550100").execute(app.database.db);
    await insert(1, "13105550101").execute(app.database.db);
    const find = async (query: string) => (await call(app, "GET", `/v2/calls?limit=10${query}`, { auth: alice.api })).json;
    expect((await find("&toNumber=13105550100")).totalCount).toBe(10_000);
    expect(await find("")).toMatchObject({ limit: 10, offset: 0, totalCount: -1 });
    // The last page says how many there are without counting.
    expect(await find("&offset=10000")).toMatchObject({ items: [{ toNumber: "13105550100" }], totalCount: 10_001 });
  });
});

describeEachDialect("the calls and texts migration", (dialect) => {
  it("makes the calls ingested before it FINISHED, LA when they lasted and NO_ANS when they did not", async () => {
    const store = await persistentTestDatabase(dialect);
    const database = openDatabase({ url: dialect === "postgres" ? postgresUrl : undefined, dataDir: store.dataDir, schema: store.schema });
    try {
      // A database of the previous release: every migration before this one.
      const all = await migrationProvider(database.dialect).getMigrations();
      const before = Object.fromEntries(Object.entries(all).filter(([name]) => name < "0009"));
      const migrateWith = (migrations: typeof all) =>
        new Migrator({ db: database.db, provider: { getMigrations: async () => migrations }, migrationTableSchema: store.schema }).migrateToLatest();
      expect((await migrateWith(before)).error).toBeUndefined();
      const account = await sql<{ id: number }>`insert into account (email, password_hash, created) values ('old@example.com', 'x', 1000) returning id`.execute(database.db);
      const accountId = account.rows[0]!.id;
      await sql`insert into "call" (account_id, from_number, to_number, start_time, duration_seconds, created) values
        (${accountId}, '12135551189', '13105550100', 1700000000000, 61, 1700000100000),
        (${accountId}, '12135551189', '13105550100', 1700000000000, 0, 1700000100000)`.execute(database.db);

      expect((await migrateWith(all)).error).toBeUndefined();
      const rows = await database.db.selectFrom("call").select(["state", "final_result", "finish_time", "modified", "inbound"]).orderBy("id").execute();
      expect(rows).toEqual([
        { state: "FINISHED", final_result: "LA", finish_time: 1700000061000, modified: 1700000100000, inbound: 0 },
        { state: "FINISHED", final_result: "NO_ANS", finish_time: 1700000000000, modified: 1700000100000, inbound: 0 },
      ]);
    } finally {
      await database.close();
      await store.drop();
    }
  });
});
