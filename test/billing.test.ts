import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { backfillUsageDays } from "../src/db/migrations/0011-usage-days.js";
import { admin, ingestCall } from "./support/calls.js";

const day = 86_400_000;
const monthStart = (time: number, offset = 0) => Date.UTC(new Date(time).getUTCFullYear(), new Date(time).getUTCMonth() + offset, 1);

describeEachDialect("billing", (dialect) => {
  let app: TestApp;
  let alice: TestAccount;
  let bob: TestAccount;
  // Mid-month, after the accounts are created (their creation time is the real clock's).
  let clock = monthStart(Date.now(), 1) + 14 * day + 12 * 3_600_000;

  beforeAll(async () => {
    app = await startTestApp(dialect, { now: () => clock });
    alice = await createTestAccount(app);
    bob = await createTestAccount(app);
  });
  afterAll(() => app.close());

  const planUsage = async (account: TestAccount) => (await call(app, "GET", "/v2/me/billing/plan-usage", { auth: account.api })).json;
  const creditUsage = async (account: TestAccount, query = "intervalBegin=0") =>
    (await call(app, "GET", `/v2/me/billing/credit-usage?${query}`, { auth: account.api })).json;
  const setPlan = (account: TestAccount, plan: Record<string, unknown>) => admin(app, "PUT", `/accounts/${account.id}/plan`, plan);
  const addCredits = (account: TestAccount, amount: unknown) => admin(app, "POST", `/accounts/${account.id}/credits`, { amount });

  describe("getBillingPlanUsage", () => {
    it("reports the configured default plan for an account never charged, over the current UTC month", async () => {
      const carol = await createTestAccount(app);
      const { status, json } = await call(app, "GET", "/v2/me/billing/plan-usage", { auth: carol.api });
      expect(status).toBe(200);
      expect(json).toEqual({
        intervalStart: monthStart(clock),
        intervalEnd: monthStart(clock, 1) - 1,
        remainingPlanCredits: 0,
        remainingPayAsYouGoCredits: 0,
        totalRemainingCredits: 0,
      });
      expect((await admin(app, "GET", `/accounts/${carol.id}/billing`)).json.plan).toEqual({
        name: "Pay As You Go",
        monthlyCredits: 0,
        creditsPerCallMinute: 1,
        creditsPerText: 1,
      });
    });

    it("applies fields", async () => {
      const { json } = await call(app, "GET", "/v2/me/billing/plan-usage?fields=totalRemainingCredits", { auth: bob.api });
      expect(json).toEqual({ totalRemainingCredits: 0 });
    });
  });

  describe("charging", () => {
    it("takes plan credits first, then pay-as-you-go below zero, and renews the plan each UTC month", async () => {
      const monthA = monthStart(clock);
      const set = await setPlan(alice, { name: "Gold", monthlyCredits: 100, creditsPerCallMinute: 0.5, creditsPerText: 0.0125 });
      expect(set.status).toBe(200);
      expect(set.json).toEqual({
        plan: { name: "Gold", monthlyCredits: 100, creditsPerCallMinute: 0.5, creditsPerText: 0.0125 },
        intervalStart: monthA,
        intervalEnd: monthStart(clock, 1) - 1,
        remainingPlanCredits: 100,
        remainingPayAsYouGoCredits: 0,
        totalRemainingCredits: 100,
      });
      expect((await addCredits(alice, 20.5)).json.remainingPayAsYouGoCredits).toBe(20.5);
      expect((await addCredits(alice, -0.5)).json.remainingPayAsYouGoCredits).toBe(20);

      const short = await ingestCall(app, alice.id, { startTime: clock - 3_600_000, durationSeconds: 61 });
      expect(short.json.charge).toEqual({ minutes: 2, credits: 1, planCredits: 1, payAsYouGoCredits: 0 });
      const texts = await admin(app, "POST", `/accounts/${alice.id}/texts`, { count: 3, time: clock - 60_000 });
      expect(texts.status).toBe(201);
      expect(texts.json).toEqual({ id: expect.any(Number), count: 3, time: clock - 60_000, charge: { credits: 0.0375, planCredits: 0.0375, payAsYouGoCredits: 0 } });
      const long = await ingestCall(app, alice.id, { startTime: clock - 2 * day, durationSeconds: 86_400 });
      expect(long.json.charge).toEqual({ minutes: 1440, credits: 720, planCredits: 98.9625, payAsYouGoCredits: 621.0375 });

      expect(await planUsage(alice)).toEqual({
        intervalStart: monthA,
        intervalEnd: monthStart(clock, 1) - 1,
        remainingPlanCredits: 0,
        remainingPayAsYouGoCredits: -601.0375,
        totalRemainingCredits: -601.0375,
      });
      const usage = await call(app, "GET", "/v2/me/billing/credit-usage?intervalBegin=0", { auth: alice.api });
      expect(usage.text).toBe(`{"intervalBegin":0,"intervalEnd":${clock},"callsDurationMinutes":1442,"textsSent":3,"creditsUsed":721.0375}`);

      clock = monthStart(clock, 1) + 3_600_000;
      expect(await planUsage(alice)).toEqual({
        intervalStart: monthStart(clock),
        intervalEnd: monthStart(clock, 1) - 1,
        remainingPlanCredits: 100,
        remainingPayAsYouGoCredits: -601.0375,
        totalRemainingCredits: -501.0375,
      });
      const next = await ingestCall(app, alice.id, { startTime: clock - 60_000, durationSeconds: 30 });
      expect(next.json.charge).toEqual({ minutes: 1, credits: 0.5, planCredits: 0.5, payAsYouGoCredits: 0 });
      expect((await planUsage(alice)).remainingPlanCredits).toBe(99.5);

      expect(await creditUsage(alice, `intervalBegin=${monthA}&intervalEnd=${monthStart(clock)}`)).toEqual({
        intervalBegin: monthA,
        intervalEnd: monthStart(clock),
        callsDurationMinutes: 1442,
        textsSent: 3,
        creditsUsed: 721.0375,
      });
      expect(await creditUsage(alice, `intervalBegin=${monthStart(clock)}`)).toEqual({
        intervalBegin: monthStart(clock),
        intervalEnd: clock,
        callsDurationMinutes: 1,
        textsSent: 0,
        creditsUsed: 0.5,
      });
      // Another account sees none of it.
      expect(await creditUsage(bob)).toMatchObject({ callsDurationMinutes: 0, textsSent: 0, creditsUsed: 0 });
    });

    it("charges 50 concurrent call ingests and top-ups on one account exactly", async () => {
      const dave = await createTestAccount(app);
      await setPlan(dave, { name: "Small", monthlyCredits: 30, creditsPerCallMinute: 1, creditsPerText: 1 });
      await addCredits(dave, 10);
      const results = await Promise.all([
        ...Array.from({ length: 50 }, (_, i) => ingestCall(app, dave.id, { startTime: clock - 60_000 - i, durationSeconds: 61 })),
        ...Array.from({ length: 10 }, () => addCredits(dave, 1)),
      ]);
      expect(results.map((r) => r.status)).toEqual([...Array(50).fill(201), ...Array(10).fill(200)]);

      expect(await planUsage(dave)).toMatchObject({ remainingPlanCredits: 0, remainingPayAsYouGoCredits: -50, totalRemainingCredits: -50 });
      expect(await creditUsage(dave)).toMatchObject({ callsDurationMinutes: 100, creditsUsed: 100 });
      // The ledger agrees with the balances: 30 from the plan, 70 pay-as-you-go, each call 2 credits.
      const ledger = await app.database.db.selectFrom("usage_charge").selectAll().where("account_id", "=", dave.id).execute();
      expect(ledger).toHaveLength(50);
      expect(ledger.every((row) => Number(row.credits) === 20_000 && Number(row.plan_credits) + Number(row.pay_as_you_go_credits) === 20_000)).toBe(true);
      expect(ledger.reduce((sum, row) => sum + Number(row.plan_credits), 0)).toBe(300_000);
      expect(ledger.reduce((sum, row) => sum + Number(row.pay_as_you_go_credits), 0)).toBe(700_000);
    });

    it("charges 50 concurrent retries of one externalId once", async () => {
      const erin = await createTestAccount(app);
      await addCredits(erin, 1); // the billing row exists, so the retries race for it
      const fields = { externalId: "freeswitch-8f14e45f", startTime: clock - 60_000, durationSeconds: 600 };
      const results = await Promise.all(Array.from({ length: 50 }, () => ingestCall(app, erin.id, fields)));
      expect(results.map((r) => r.status).sort()).toEqual([...Array(49).fill(200), 201]);
      expect(new Set(results.map((r) => r.json.id)).size).toBe(1);
      expect(await creditUsage(erin)).toMatchObject({ callsDurationMinutes: 10, creditsUsed: 10 });
      expect(await planUsage(erin)).toMatchObject({ remainingPayAsYouGoCredits: -9 });
    });
  });

  describe("operator billing input", () => {
    it.each([
      ["credits of 0.00001", 0.00001, "amount: 0.00001 has more than 4 decimal places"],
      ["zero credits", 0, "amount: must not be 0"],
      ["ten billion credits", 1e10, "amount: must be from -1000000000 to 1000000000"],
      ["credits as text", "lots", "body amount: must be number"],
    ])("refuses %s with 400 and leaves the balance exact", async (_label, amount, message) => {
      const before = await planUsage(bob);
      const { status, json } = await addCredits(bob, amount);
      expect(status).toBe(400);
      expect(json).toEqual({ httpStatusCode: 400, internalCode: 0, message });
      expect(await planUsage(bob)).toEqual(before);
      const adjustments = await app.database.db.selectFrom("credit_adjustment").select("id").where("account_id", "=", bob.id).execute();
      expect(adjustments).toEqual([]);
    });

    it("adds credits with 4 decimals exactly, many times over", async () => {
      const frank = await createTestAccount(app);
      for (let i = 0; i < 10; i++) await addCredits(frank, 0.1);
      await addCredits(frank, 1.2345);
      expect(await planUsage(frank)).toMatchObject({ remainingPayAsYouGoCredits: 2.2345, totalRemainingCredits: 2.2345 });
    });

    it.each([
      ["negative monthly credits", { monthlyCredits: -1 }, "monthlyCredits: must be from 0 to 1000000000"],
      ["a rate with 5 decimals", { creditsPerText: 0.00001 }, "creditsPerText: 0.00001 has more than 4 decimal places"],
      ["an absurd rate", { creditsPerCallMinute: 10_001 }, "creditsPerCallMinute: must be from 0 to 10000"],
      ["a blank name", { name: "  " }, "name: must be 1 to 255 characters"],
      ["a missing rate", { creditsPerText: undefined }, "body field creditsPerText: is required"],
    ])("refuses a plan with %s", async (_label, fields, message) => {
      const { status, json } = await setPlan(bob, { name: "Silver", monthlyCredits: 10, creditsPerCallMinute: 1, creditsPerText: 1, ...fields });
      expect(status).toBe(400);
      expect(json.message).toBe(message);
      expect((await admin(app, "GET", `/accounts/${bob.id}/billing`)).json.plan.name).toBe("Pay As You Go");
    });

    it("answers 404 for an unknown account", async () => {
      for (const response of [
        await setPlan({ id: 999_999 } as TestAccount, { name: "x", monthlyCredits: 0, creditsPerCallMinute: 0, creditsPerText: 0 }),
        await addCredits({ id: 999_999 } as TestAccount, 5),
        await admin(app, "POST", "/accounts/999999/texts", { count: 1 }),
        await admin(app, "GET", "/accounts/999999/billing"),
      ]) {
        expect(response.json).toEqual({ httpStatusCode: 404, internalCode: 0, message: "account 999999 not found" });
      }
    });

    it("charges texts at now by default, and a retried report with an externalId once", async () => {
      const gina = await createTestAccount(app);
      const first = await admin(app, "POST", `/accounts/${gina.id}/texts`, { count: 2, externalId: "batch-1" });
      expect(first.json).toEqual({ id: expect.any(Number), count: 2, time: clock, externalId: "batch-1", charge: { credits: 2, planCredits: 0, payAsYouGoCredits: 2 } });
      const sentAt = clock;
      clock += 5_000;
      for (const body of [{ count: 2, externalId: "batch-1" }, { count: 2, time: sentAt, externalId: "batch-1" }]) {
        const retry = await admin(app, "POST", `/accounts/${gina.id}/texts`, body);
        expect(retry.status).toBe(200);
        expect(retry.json).toEqual(first.json);
      }
      const other = await admin(app, "POST", `/accounts/${gina.id}/texts`, { count: 3, externalId: "batch-1" });
      expect(other.status).toBe(409);
      expect(other.json.message).toBe(`externalId batch-1 was already used for 2 text(s) at ${sentAt}`);
      expect((await admin(app, "POST", `/accounts/${gina.id}/texts`, { count: 2, time: sentAt - 1, externalId: "batch-1" })).status).toBe(409);
      expect(await creditUsage(gina)).toMatchObject({ textsSent: 2, creditsUsed: 2 });
    });

    it.each([
      ["no texts", { count: 0 }, "count: must be a whole number from 1 to 1000000"],
      ["a time in the future", { count: 1, time: 4_102_444_800_000 }, "time: 4102444800000 is in the future"],
    ])("refuses %s", async (_label, body, message) => {
      const { status, json } = await admin(app, "POST", `/accounts/${bob.id}/texts`, body);
      expect(status).toBe(400);
      expect(json.message).toBe(message);
    });
  });

  describe("getCreditUsage", () => {
    let hank: TestAccount;
    let created: number;
    let at: number;

    beforeAll(async () => {
      hank = await createTestAccount(app);
      created = (await admin(app, "GET", `/accounts/${hank.id}`)).json.created;
      at = clock - 5 * 60_000;
      await ingestCall(app, hank.id, { startTime: at, durationSeconds: 60 });
    });

    it("sums usage from the account's creation to now by default", async () => {
      const { status, json } = await call(app, "GET", "/v2/me/billing/credit-usage", { auth: hank.api });
      expect(status).toBe(200);
      expect(json).toEqual({ intervalBegin: created, intervalEnd: clock, callsDurationMinutes: 1, textsSent: 0, creditsUsed: 1 });
    });

    it("covers all of an account's usage by default, backfilled usage from before its creation included", async () => {
      const ivy = await createTestAccount(app);
      const ivyCreated = (await admin(app, "GET", `/accounts/${ivy.id}`)).json.created;
      const [callAt, textsAt] = [ivyCreated - 30 * day, ivyCreated - 40 * day];
      expect((await ingestCall(app, ivy.id, { startTime: callAt, durationSeconds: 125 })).status).toBe(201);
      expect((await admin(app, "POST", `/accounts/${ivy.id}/texts`, { count: 4, time: textsAt })).status).toBe(201);
      await ingestCall(app, ivy.id, { startTime: clock - 60_000, durationSeconds: 30 });

      expect(await creditUsage(ivy, "")).toEqual({ intervalBegin: textsAt, intervalEnd: clock, callsDurationMinutes: 4, textsSent: 4, creditsUsed: 8 });
      // An end alone: everything before it, from the earliest usage.
      expect(await creditUsage(ivy, `intervalEnd=${callAt}`)).toEqual({ intervalBegin: textsAt, intervalEnd: callAt, callsDurationMinutes: 0, textsSent: 4, creditsUsed: 4 });
      expect(await creditUsage(ivy, `intervalEnd=${callAt + 1}`)).toMatchObject({ intervalBegin: textsAt, callsDurationMinutes: 3, textsSent: 4 });
      // A begin given is the begin reported.
      expect(await creditUsage(ivy, `intervalBegin=${callAt}`)).toEqual({ intervalBegin: callAt, intervalEnd: clock, callsDurationMinutes: 4, textsSent: 0, creditsUsed: 4 });
    });

    it("counts usage at intervalBegin and not at intervalEnd", async () => {
      expect(await creditUsage(hank, `intervalBegin=${at}&intervalEnd=${at + 1}`)).toMatchObject({ callsDurationMinutes: 1 });
      expect(await creditUsage(hank, `intervalBegin=${at - 1}&intervalEnd=${at}`)).toMatchObject({ callsDurationMinutes: 0 });
      expect(await creditUsage(hank, `intervalBegin=${at}&intervalEnd=${at}`)).toMatchObject({ callsDurationMinutes: 0, creditsUsed: 0 });
    });

    it("starts an interval that only has an end before the account's creation at that end", async () => {
      expect(await creditUsage(hank, "intervalEnd=1000000000000")).toEqual({
        intervalBegin: 1_000_000_000_000,
        intervalEnd: 1_000_000_000_000,
        callsDurationMinutes: 0,
        textsSent: 0,
        creditsUsed: 0,
      });
    });

    it.each([
      ["a non-numeric intervalBegin", "intervalBegin=yesterday", "query parameter intervalBegin: must be integer"],
      ["a negative intervalEnd", "intervalEnd=-1", "query parameter intervalEnd: must be >= 0"],
      ["intervalBegin after intervalEnd", "intervalBegin=2000&intervalEnd=1000", "intervalBegin (2000) is after intervalEnd (1000)"],
      ["a bad fields selection", "fields=items(", "fields: expected a field name at the end of \"items(\""],
    ])("refuses %s with 400", async (_label, query, message) => {
      const { status, json } = await call(app, "GET", `/v2/me/billing/credit-usage?${query}`, { auth: hank.api });
      expect(status).toBe(400);
      expect(json).toEqual({ httpStatusCode: 400, internalCode: 0, message });
    });

    it("sums exactly over intervals that do not start or end on a UTC day (day totals plus the partial days' ledger rows)", async () => {
      const jan = await createTestAccount(app);
      const base = Math.floor(clock / day) * day - 5 * day;
      // Usage on both sides of each midnight, at the first and last millisecond of days too.
      const reports = [
        [base - 1, 1], [base, 2], [base + 1, 4], [base + day / 2, 8], [base + day - 1, 16], [base + day, 32],
        [base + 2 * day + 7, 64], [base + 3 * day - 1, 128], [base + 4 * day + 3_600_000, 256],
      ] as const;
      for (const [time, count] of reports) {
        expect((await admin(app, "POST", `/accounts/${jan.id}/texts`, { count, time })).status).toBe(201);
      }
      const bounds = [base - day, base - 1, base, base + 1, base + day / 2, base + day - 1, base + day, base + 2 * day + 8, base + 3 * day, base + 5 * day];
      for (const begin of bounds) {
        for (const end of bounds.filter((b) => b >= begin)) {
          const texts = reports.filter(([time]) => time >= begin && time < end).reduce((n, [, count]) => n + count, 0);
          expect(await creditUsage(jan, `intervalBegin=${begin}&intervalEnd=${end}`), `[${begin - base}, ${end - base})`).toMatchObject({ textsSent: texts, creditsUsed: texts });
        }
      }
      expect(await creditUsage(jan, `intervalEnd=${base + day / 2}`)).toMatchObject({ textsSent: 7 });
    });

    it("keeps the day totals equal to the ledger's sums (what migration 0011's backfill computes)", async () => {
      const db = app.database.db;
      const kept = await db.selectFrom("usage_day").selectAll().orderBy("account_id").orderBy("day").execute();
      expect(kept.length).toBeGreaterThan(3);
      await backfillUsageDays(db);
      expect(await db.selectFrom("usage_day").selectAll().orderBy("account_id").orderBy("day").execute()).toEqual(kept);
    });

    it("needs credentials", async () => {
      expect((await call(app, "GET", "/v2/me/billing/credit-usage")).status).toBe(401);
      expect((await call(app, "GET", "/v2/me/billing/plan-usage")).status).toBe(401);
    });
  });
});
