import type { Kysely } from "kysely";
import type { CallRow, Tables } from "../db/tables.js";
import { BadRequest, Conflict } from "../errors.js";
import { checkUsageTime, chargeOf, type BillingService, type UsageCharge } from "./billing.js";
import { parsePhoneNumber } from "./phone-numbers.js";

export interface CallInput {
  fromNumber: string;
  toNumber: string;
  startTime: number;
  durationSeconds: number;
  campaignId?: number;
  /** The operator's own id for the call: a retried ingest with it is answered, not charged again. */
  externalId?: string;
}

export interface Call extends CallInput {
  id: number;
  accountId: number;
  created: number;
  charge: UsageCharge & { minutes: number };
}

/** A day: longer is a unit mistake or a stuck channel, not a call to charge. */
export const maxCallSeconds = 86_400;

export class CallService {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly billing: BillingService,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records a finished call and charges `ceil(duration / 60 s)` minutes in the same transaction,
   * so a call is never stored uncharged or charged twice. `created` is false when `externalId`
   * names a call already ingested with the same details (an operator's retry after a timeout).
   */
  async ingest(accountId: number, input: CallInput): Promise<{ call: Call; created: boolean }> {
    const fromNumber = parsePhoneNumber(input.fromNumber, "fromNumber");
    const toNumber = parsePhoneNumber(input.toNumber, "toNumber");
    const { startTime, durationSeconds, campaignId, externalId } = input;
    checkUsageTime(startTime, "startTime", this.now());
    if (!Number.isInteger(durationSeconds) || durationSeconds < 0 || durationSeconds > maxCallSeconds) {
      throw new BadRequest(`durationSeconds: must be a whole number of seconds from 0 to ${maxCallSeconds}`);
    }
    if (externalId !== undefined && (externalId.length < 1 || externalId.length > 255)) {
      throw new BadRequest("externalId: must be 1 to 255 characters");
    }
    const minutes = Math.ceil(durationSeconds / 60);

    // Inside the billing lock every ingest for this account runs alone, so looking up the
    // externalId first cannot race with another ingest of the same call.
    return this.billing.withBillingLock(accountId, async ({ trx, now, charge }) => {
      if (externalId !== undefined) {
        const existing = await trx
          .selectFrom("call")
          .innerJoin("usage_charge", "usage_charge.call_id", "call.id")
          .selectAll("call")
          .select(["usage_charge.call_minutes", "usage_charge.credits", "usage_charge.plan_credits", "usage_charge.pay_as_you_go_credits"])
          .where("call.account_id", "=", accountId)
          .where("call.external_id", "=", externalId)
          .executeTakeFirst();
        if (existing) {
          const same =
            existing.from_number === fromNumber &&
            existing.to_number === toNumber &&
            existing.start_time === startTime &&
            existing.duration_seconds === durationSeconds &&
            existing.campaign_id === (campaignId ?? null);
          if (!same) throw new Conflict(`externalId ${externalId} was already used for call ${existing.id}, with other details`);
          return { call: toCall(existing, { minutes: existing.call_minutes, ...chargeOf(existing) }), created: false };
        }
      }
      const row = await trx
        .insertInto("call")
        .values({
          account_id: accountId,
          from_number: fromNumber,
          to_number: toNumber,
          start_time: startTime,
          duration_seconds: durationSeconds,
          campaign_id: campaignId ?? null,
          external_id: externalId ?? null,
          created: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const charged = await charge({ kind: "CALL", time: startTime, callId: row.id, minutes });
      return { call: toCall(row, { minutes, ...charged.charge }), created: true };
    });
  }
}

function toCall(row: CallRow, charge: Call["charge"]): Call {
  return {
    id: row.id,
    accountId: row.account_id,
    fromNumber: row.from_number,
    toNumber: row.to_number,
    startTime: row.start_time,
    durationSeconds: row.duration_seconds,
    campaignId: row.campaign_id ?? undefined,
    externalId: row.external_id ?? undefined,
    created: row.created,
    charge,
  };
}
