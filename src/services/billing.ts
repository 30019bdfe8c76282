import { sql, type ExpressionBuilder, type Kysely, type Transaction } from "kysely";
import type { Dialect } from "../db/database.js";
import type { BillingAccountRow, Tables, UsageKind } from "../db/tables.js";
import { lockAccountForUpdate } from "../db/write-locks.js";
import { BadRequest, Conflict, NotFound } from "../errors.js";
import type { Account } from "./accounts.js";
import { creditsToNumber, creditsToUnits, maxCredits } from "./credits.js";

/** A billing plan; credits in ten-thousandths (src/services/credits.ts). */
export interface Plan {
  name: string;
  monthlyCredits: number;
  creditsPerCallMinute: number;
  creditsPerText: number;
}

export const maxPlanCredits = maxCredits;
export const maxPlanRate = 10_000;
/** Usage older than this is a unit mistake (seconds for milliseconds), not a real call. */
const earliestUsageTime = Date.UTC(2000, 0, 1);

export interface CreditUsage {
  intervalBegin: number;
  intervalEnd: number;
  callsDurationMinutes: number;
  textsSent: number;
  creditsUsed: number;
}

export interface BillingPlanUsage {
  intervalStart: number;
  intervalEnd: number;
  remainingPlanCredits: number;
  remainingPayAsYouGoCredits: number;
  totalRemainingCredits: number;
}

/** What the operator sees of an account's billing. */
export interface BillingSummary extends BillingPlanUsage {
  plan: { name: string; monthlyCredits: number; creditsPerCallMinute: number; creditsPerText: number };
}

/** One ledger row, in credits. */
export interface UsageCharge {
  credits: number;
  planCredits: number;
  payAsYouGoCredits: number;
}

export type Usage =
  | { kind: "CALL"; time: number; callId: number; minutes: number }
  | { kind: "TEXT"; time: number; texts: number; externalId?: string; textId?: number };

export interface TextUsage {
  id: number;
  count: number;
  time: number;
  externalId?: string;
  charge: UsageCharge;
}

/** A transaction that holds an account's billing row: charges in it are applied one at a time. */
export interface BillingTransaction {
  trx: Transaction<Tables>;
  now: number;
  /** Appends the usage to the ledger and takes its credits from the plan, then pay-as-you-go. */
  charge(usage: Usage): Promise<{ id: number; charge: UsageCharge }>;
  /** The account's plan (credits in ten-thousandths). */
  plan: Plan;
  /** Plan credits left this month plus pay-as-you-go credits, in ten-thousandths, as of now in this transaction. */
  remainingCredits(): number;
}

export class BillingService {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly dialect: Dialect,
    private readonly defaultPlan: Plan,
    private readonly now: () => number = Date.now,
  ) {}

  async setPlan(accountId: number, input: BillingSummary["plan"]): Promise<BillingSummary> {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 255) throw new BadRequest("name: must be 1 to 255 characters");
    const plan = {
      plan_name: name,
      plan_monthly_credits: creditsToUnits(input.monthlyCredits, "monthlyCredits", { min: 0, max: maxPlanCredits }),
      plan_credits_per_call_minute: creditsToUnits(input.creditsPerCallMinute, "creditsPerCallMinute", { min: 0, max: maxPlanRate }),
      plan_credits_per_text: creditsToUnits(input.creditsPerText, "creditsPerText", { min: 0, max: maxPlanRate }),
    };
    // A new plan keeps this month's usage: remaining plan credits are the new allowance minus it.
    await this.withBillingLock(accountId, async ({ trx }) => {
      await trx.updateTable("billing_account").set(plan).where("account_id", "=", accountId).execute();
    });
    return this.summary(accountId);
  }

  /** Adds (or, negative, deducts) pay-as-you-go credits; the balance may go below zero. */
  async addCredits(accountId: number, amount: number): Promise<BillingSummary> {
    const units = creditsToUnits(amount, "amount", { min: -maxCredits, max: maxCredits });
    if (units === 0) throw new BadRequest("amount: must not be 0");
    await this.withBillingLock(accountId, async ({ trx, now }) => {
      await trx
        .updateTable("billing_account")
        .set((eb) => ({ pay_as_you_go: eb("pay_as_you_go", "+", units) }))
        .where("account_id", "=", accountId)
        .execute();
      await trx.insertInto("credit_adjustment").values({ account_id: accountId, amount: units, created: now }).execute();
    });
    return this.summary(accountId);
  }

  /**
   * Charges `count` texts sent at `time` (default now). With an `externalId`, a retry of the same
   * report returns the first charge (`created: false`) instead of charging again; a retry that
   * leaves `time` to default matches whatever time the first report got.
   */
  async recordTexts(accountId: number, input: { count: number; time?: number; externalId?: string }): Promise<{ texts: TextUsage; created: boolean }> {
    const { count, externalId } = input;
    if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new BadRequest("count: must be a whole number from 1 to 1000000");
    const time = input.time ?? this.now();
    checkUsageTime(time, "time", this.now());
    return this.withBillingLock(accountId, async ({ trx, charge }) => {
      if (externalId !== undefined) {
        const existing = await trx
          .selectFrom("usage_charge")
          .selectAll()
          .where("account_id", "=", accountId)
          .where("external_id", "=", externalId)
          .executeTakeFirst();
        if (existing) {
          if (existing.texts !== count || (input.time !== undefined && existing.time !== input.time)) {
            throw new Conflict(`externalId ${externalId} was already used for ${existing.texts} text(s) at ${existing.time}`);
          }
          return { texts: { id: existing.id, count, time: existing.time, externalId, charge: chargeOf(existing) }, created: false };
        }
      }
      const charged = await charge({ kind: "TEXT", time, texts: count, externalId });
      return { texts: { id: charged.id, count, time, externalId, charge: charged.charge }, created: true };
    });
  }

  /**
   * Usage recorded in [intervalBegin, intervalEnd); end defaults to now. Without a begin it is all
   * the account's usage before the end, backfilled usage older than the account included, and the
   * begin reported is its earliest usage or the account's creation, whichever is earlier. The
   * caller has the account already (the authenticated principal carries it).
   */
  async creditUsage(account: Pick<Account, "id" | "created">, interval: { intervalBegin?: number; intervalEnd?: number }): Promise<CreditUsage> {
    const intervalEnd = interval.intervalEnd ?? this.now();
    if (interval.intervalBegin !== undefined && interval.intervalBegin > intervalEnd) {
      throw new BadRequest(`intervalBegin (${interval.intervalBegin}) is after intervalEnd (${intervalEnd})`);
    }
    const begin = interval.intervalBegin;
    const sums = await usageIn(this.db, account.id, begin ?? earliestUsageTime, intervalEnd);
    if (begin !== undefined) return { intervalBegin: begin, intervalEnd, ...sums };
    // Backfilled usage may predate the account: the earliest of the two opens the interval.
    const first = await earliestUsageQuery(this.db, account.id, intervalEnd).executeTakeFirst();
    const earliest = first ? Math.min(Number(first.time), account.created) : account.created;
    return { intervalBegin: Math.min(earliest, intervalEnd), intervalEnd, ...sums };
  }

  /** The usage of each UTC day of the last `days`, today included, oldest first (what the web console charts). */
  async dailyCreditUsage(accountId: number, days: number): Promise<CreditUsage[]> {
    const end = startOfUtcDay(this.now()) + dayMs;
    const begin = end - days * dayMs;
    const rows = await dailyUsageIn(this.db, accountId, begin, end).execute();
    const byDay = new Map(rows.map((row) => [Number(row.day), row]));
    return Array.from({ length: days }, (_, i) => {
      const intervalBegin = begin + i * dayMs;
      const sums = byDay.get(intervalBegin / dayMs);
      return { intervalBegin, intervalEnd: intervalBegin + dayMs, ...(sums ? usageOf(sums) : { callsDurationMinutes: 0, textsSent: 0, creditsUsed: 0 }) };
    });
  }

  /** The current UTC calendar month. */
  async planUsage(accountId: number): Promise<BillingPlanUsage> {
    return this.planUsageOf(await this.billingRow(accountId));
  }

  async summary(accountId: number): Promise<BillingSummary> {
    const account = await this.db.selectFrom("account").select("id").where("id", "=", accountId).executeTakeFirst();
    if (!account) throw new NotFound(`account ${accountId} not found`);
    const row = await this.billingRow(accountId);
    const plan = this.planOf(row);
    return {
      plan: {
        name: plan.name,
        monthlyCredits: creditsToNumber(plan.monthlyCredits),
        creditsPerCallMinute: creditsToNumber(plan.creditsPerCallMinute),
        creditsPerText: creditsToNumber(plan.creditsPerText),
      },
      ...this.planUsageOf(row),
    };
  }

  private billingRow(accountId: number): Promise<BillingAccountRow | undefined> {
    return this.db.selectFrom("billing_account").selectAll().where("account_id", "=", accountId).executeTakeFirst();
  }

  private planUsageOf(row: BillingAccountRow | undefined): BillingPlanUsage {
    const now = this.now();
    const monthStart = startOfUtcMonth(now);
    const plan = this.planOf(row);
    const used = row && row.plan_month_start >= monthStart ? row.plan_credits_used : 0;
    const remainingPlan = Math.max(0, plan.monthlyCredits - used);
    const payAsYouGo = row?.pay_as_you_go ?? 0;
    return {
      intervalStart: monthStart,
      intervalEnd: startOfNextUtcMonth(now) - 1,
      remainingPlanCredits: creditsToNumber(remainingPlan),
      remainingPayAsYouGoCredits: creditsToNumber(payAsYouGo),
      totalRemainingCredits: creditsToNumber(remainingPlan + payAsYouGo),
    };
  }

  /**
   * Runs `work` in a transaction that holds the account (src/db/write-locks.ts), so concurrent
   * charges to one account queue here and none reads a stale balance. Its first write moves the
   * plan-credit month forward, never back (a node with a slow clock cannot reset a month's usage).
   */
  async withBillingLock<T>(accountId: number, work: (tx: BillingTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      await lockAccountForUpdate(trx, this.dialect, accountId);
      const now = this.now();
      const monthStart = startOfUtcMonth(now);
      await trx
        .insertInto("billing_account")
        .columns(["account_id"])
        .expression((eb) => eb.selectFrom("account").select("id").where("id", "=", accountId))
        .onConflict((c) => c.column("account_id").doNothing())
        .execute();
      const row = await trx
        .updateTable("billing_account")
        .set((eb) => ({
          plan_credits_used: eb.case().when("plan_month_start", ">=", monthStart).then(eb.ref("plan_credits_used")).else(eb.lit(0)).end(),
          plan_month_start: eb.case().when("plan_month_start", ">=", monthStart).then(eb.ref("plan_month_start")).else(monthStart).end(),
        }))
        .where("account_id", "=", accountId)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new NotFound(`account ${accountId} not found`);

      const plan = this.planOf(row);
      let planUsed = row.plan_credits_used;
      let payAsYouGo = row.pay_as_you_go;
      const charge = async (usage: Usage) => {
        const credits = usage.kind === "CALL" ? usage.minutes * plan.creditsPerCallMinute : usage.texts * plan.creditsPerText;
        const fromPlan = Math.min(credits, Math.max(0, plan.monthlyCredits - planUsed));
        const fromPayAsYouGo = credits - fromPlan;
        planUsed += fromPlan;
        payAsYouGo -= fromPayAsYouGo;
        await trx
          .updateTable("billing_account")
          .set((eb) => ({
            plan_credits_used: eb("plan_credits_used", "+", fromPlan),
            pay_as_you_go: eb("pay_as_you_go", "-", fromPayAsYouGo),
          }))
          .where("account_id", "=", accountId)
          .execute();
        const inserted = await trx
          .insertInto("usage_charge")
          .values({
            account_id: accountId,
            kind: usage.kind satisfies UsageKind,
            time: usage.time,
            charged_at: now,
            call_id: usage.kind === "CALL" ? usage.callId : null,
            text_id: usage.kind === "TEXT" ? (usage.textId ?? null) : null,
            external_id: usage.kind === "TEXT" ? (usage.externalId ?? null) : null,
            call_minutes: usage.kind === "CALL" ? usage.minutes : 0,
            texts: usage.kind === "TEXT" ? usage.texts : 0,
            credits,
            plan_credits: fromPlan,
            pay_as_you_go_credits: fromPayAsYouGo,
          })
          .returning("id")
          .executeTakeFirstOrThrow();
        const minutes = usage.kind === "CALL" ? usage.minutes : 0;
        const texts = usage.kind === "TEXT" ? usage.texts : 0;
        await trx
          .insertInto("usage_day")
          .values({ account_id: accountId, day: Math.floor(usage.time / dayMs), call_minutes: minutes, texts, credits })
          .onConflict((c) =>
            c.columns(["account_id", "day"]).doUpdateSet((eb) => ({
              call_minutes: eb("usage_day.call_minutes", "+", minutes),
              texts: eb("usage_day.texts", "+", texts),
              credits: eb("usage_day.credits", "+", credits),
            })),
          )
          .execute();
        return { id: inserted.id, charge: chargeOf({ credits, plan_credits: fromPlan, pay_as_you_go_credits: fromPayAsYouGo }) };
      };
      const remainingCredits = () => Math.max(0, plan.monthlyCredits - planUsed) + payAsYouGo;
      return work({ trx, now, charge, plan, remainingCredits });
    });
  }

  private planOf(row: BillingAccountRow | undefined): Plan {
    if (!row || row.plan_name === null) return this.defaultPlan;
    return {
      name: row.plan_name,
      monthlyCredits: row.plan_monthly_credits ?? 0,
      creditsPerCallMinute: row.plan_credits_per_call_minute ?? 0,
      creditsPerText: row.plan_credits_per_text ?? 0,
    };
  }
}

export function chargeOf(row: { credits: number; plan_credits: number; pay_as_you_go_credits: number }): UsageCharge {
  return {
    credits: creditsToNumber(row.credits),
    planCredits: creditsToNumber(row.plan_credits),
    payAsYouGoCredits: creditsToNumber(row.pay_as_you_go_credits),
  };
}

/** A charge as the ledger's columns (ten-thousandths), beside the row it was charged for. */
export function ledgerColumnsOf(charge: UsageCharge): { credits: number; plan_credits: number; pay_as_you_go_credits: number } {
  return {
    credits: creditsToUnits(charge.credits, "credits", { min: 0, max: maxCredits }),
    plan_credits: creditsToUnits(charge.planCredits, "planCredits", { min: 0, max: maxCredits }),
    pay_as_you_go_credits: creditsToUnits(charge.payAsYouGoCredits, "payAsYouGoCredits", { min: 0, max: maxCredits }),
  };
}

/** Usage is reported after it happened: not in the future, and in milliseconds. */
export function checkUsageTime(time: number, field: string, now: number): void {
  if (!Number.isSafeInteger(time)) throw new BadRequest(`${field}: must be unix milliseconds`);
  if (time > now) throw new BadRequest(`${field}: ${time} is in the future`);
  if (time < earliestUsageTime) throw new BadRequest(`${field}: ${time} is before 2000-01-01; times are unix milliseconds`);
}

/** The ledger's sums: the covering index usage_charge_account_time holds every column they read. */
function usageSums(eb: ExpressionBuilder<Tables, "usage_charge" | "usage_day">) {
  return [
    eb.fn.coalesce(eb.fn.sum<number>("call_minutes"), eb.lit(0)).as("minutes"),
    eb.fn.coalesce(eb.fn.sum<number>("texts"), eb.lit(0)).as("texts"),
    eb.fn.coalesce(eb.fn.sum<number>("credits"), eb.lit(0)).as("credits"),
  ] as const;
}

/** The account's day totals for days in [firstDay, endDay). */
function dayTotals(db: Kysely<Tables>, accountId: number, firstDay: number, endDay: number) {
  return db.selectFrom("usage_day").where("account_id", "=", accountId).where("day", ">=", firstDay).where("day", "<", endDay);
}

/** The day totals of the UTC days in [begin, end) (day-aligned), one row each: what the console charts. */
export function dailyUsageIn(db: Kysely<Tables>, accountId: number, begin: number, end: number) {
  return dayTotals(db, accountId, begin / dayMs, end / dayMs).select(["day", "call_minutes as minutes", "texts", "credits"]);
}

/** The ledger's sums over [begin, end), from the covering index usage_charge_account_time. */
function ledgerSums(db: Kysely<Tables>, accountId: number, begin: number, end: number) {
  return db
    .selectFrom("usage_charge")
    .select((eb) => usageSums(eb))
    .where("account_id", "=", accountId)
    .where("time", ">=", begin)
    .where("time", "<", end);
}

/**
 * The usage in [begin, end), exactly: the whole UTC days inside it from usage_day (one row a day),
 * and the partial days at either end from the ledger (at most a day's rows each), in one query.
 */
export function usageQuery(db: Kysely<Tables>, accountId: number, begin: number, end: number) {
  const firstWholeDay = Math.ceil(begin / dayMs);
  const endWholeDay = Math.floor(end / dayMs);
  if (firstWholeDay >= endWholeDay) return ledgerSums(db, accountId, begin, end);
  return ledgerSums(db, accountId, begin, firstWholeDay * dayMs)
    .unionAll(dayTotals(db, accountId, firstWholeDay, endWholeDay).select((eb) => usageSums(eb)))
    .unionAll(ledgerSums(db, accountId, endWholeDay * dayMs, end));
}

async function usageIn(db: Kysely<Tables>, accountId: number, begin: number, end: number): Promise<Omit<CreditUsage, "intervalBegin" | "intervalEnd">> {
  const rows = await usageQuery(db, accountId, begin, end).execute();
  const total = (key: "minutes" | "texts" | "credits") => rows.reduce((n, row) => n + Number(row[key]), 0);
  return usageOf({ minutes: total("minutes"), texts: total("texts"), credits: total("credits") });
}

/** The account's earliest usage before `end`: the first entry of the ledger's (account_id, time) index. */
export function earliestUsageQuery(db: Kysely<Tables>, accountId: number, end: number) {
  return db.selectFrom("usage_charge").select("time").where("account_id", "=", accountId).where("time", "<", end).orderBy("time").limit(1);
}

/** PostgreSQL sums bigints as numeric, which pg hands back as a string. */
function usageOf(sums: { minutes: number; texts: number; credits: number }): Omit<CreditUsage, "intervalBegin" | "intervalEnd"> {
  return {
    callsDurationMinutes: Number(sums.minutes),
    textsSent: Number(sums.texts),
    creditsUsed: creditsToNumber(Number(sums.credits)),
  };
}

const dayMs = 86_400_000;

function startOfUtcDay(time: number): number {
  return time - (time % dayMs);
}

function startOfUtcMonth(time: number): number {
  const date = new Date(time);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

function startOfNextUtcMonth(time: number): number {
  const date = new Date(time);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}
