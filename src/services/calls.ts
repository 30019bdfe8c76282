import type { Kysely, Transaction } from "kysely";
import type { Dialect } from "../db/database.js";
import type { ActionState, CallRow, Tables } from "../db/tables.js";
import { lockForDeletion } from "../db/write-locks.js";
import { BadRequest, Conflict, NotFound } from "../errors.js";
import { actionPage, actionStates, callResults, filteredActions, jsonOrNull, parseEnumList, parseLabels, parsedJson, type ActionFilter, type CallResult } from "./actions.js";
import { checkUsageTime, chargeOf, ledgerColumnsOf, type BillingService, type UsageCharge } from "./billing.js";
import { deleteReleasedBlobs } from "./blob-sweeper.js";
import { settleDelivery } from "./call-outbox.js";
import type { CallRecording, CallRecordingService } from "./call-recordings.js";
import { creditsToNumber } from "./credits.js";
import { boundedCount, type Page, type PageRequest } from "./paging.js";
import { parsePhoneNumber } from "./phone-numbers.js";

/** A finished call as the operator reports it (POST /admin/v1/accounts/{id}/calls). */
export interface CallInput {
  fromNumber: string;
  toNumber: string;
  startTime: number;
  durationSeconds: number;
  campaignId?: number;
  /** The operator's own id for the call: a retried ingest with it is answered, not charged again. */
  externalId?: string;
  inbound?: boolean;
  /** Default: LA when the call lasted, NO_ANS when it did not. */
  result?: CallResult;
  labels?: string[];
}

/** The outcome of a sent call, as its platform (or the simulator) reports it. */
export interface CallOutcome {
  result: CallResult;
  durationSeconds: number;
  /** Default: now. */
  finishTime?: number;
  callerName?: string;
}

/** A call as the operator sees it. */
export interface AdminCall {
  id: number;
  accountId: number;
  fromNumber: string;
  toNumber: string;
  inbound: boolean;
  state: ActionState;
  result?: CallResult;
  /** Finished calls only. */
  startTime?: number;
  durationSeconds?: number;
  finishTime?: number;
  callerName?: string;
  campaignId?: number;
  batchId?: number;
  externalId?: string;
  labels?: string[];
  created: number;
  modified: number;
  /** Finished calls only: what the call was charged. */
  charge?: UsageCharge & { minutes: number };
}

/** A finished call, which always has its charge. */
export type ChargedCall = AdminCall & Required<Pick<AdminCall, "charge">>;

/** CallFire's CallRecord: our calls make one attempt, so a finished call has one, with the call's id. */
export interface CallRecord {
  id: number;
  billedAmount: number;
  finishTime: number;
  callerName?: string;
  result: CallResult;
  /** The same as result: CallFire's examples (and the Java SDK's first CallRecord) read this name. */
  callResult: CallResult;
  recordings?: CallRecording[];
}

/** CallFire's Call. */
export interface Call {
  id: number;
  fromNumber: string;
  toNumber: string;
  state: ActionState;
  campaignId?: number;
  batchId?: number;
  inbound: boolean;
  created: number;
  modified: number;
  attributes?: Record<string, string>;
  labels?: string[];
  finalCallResult?: CallResult;
  records?: CallRecord[];
  agentCall: boolean;
}

/** The operator's filter of calls across accounts; the interval is on the call's start (unix ms, end exclusive). */
export interface AdminCallFilter {
  accountId?: number;
  state?: ActionState;
  intervalBegin?: number;
  intervalEnd?: number;
}

export interface CallQuery extends Omit<ActionFilter, "states" | "results"> {
  /** Comma lists, as findCalls takes them. */
  states?: string;
  results?: string;
}

/** A day: longer is a unit mistake or a stuck channel, not a call to charge. */
export const maxCallSeconds = 86_400;

type ChargedCallRow = CallRow & { credits: number | null; plan_credits: number | null; pay_as_you_go_credits: number | null; call_minutes: number | null };

export class CallService {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly dialect: Dialect,
    private readonly billing: BillingService,
    private readonly recordings: CallRecordingService,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records a finished call and charges `ceil(duration / 60 s)` minutes in the same transaction,
   * so a call is never stored uncharged or charged twice. `created` is false when `externalId`
   * names a call already ingested with the same details (an operator's retry after a timeout).
   */
  async ingest(accountId: number, input: CallInput): Promise<{ call: ChargedCall; created: boolean }> {
    const fromNumber = parsePhoneNumber(input.fromNumber, "fromNumber");
    const toNumber = parsePhoneNumber(input.toNumber, "toNumber");
    const { startTime, durationSeconds, campaignId, externalId } = input;
    checkUsageTime(startTime, "startTime", this.now());
    checkDuration(durationSeconds);
    if (externalId !== undefined && (externalId.length < 1 || externalId.length > 255)) {
      throw new BadRequest("externalId: must be 1 to 255 characters");
    }
    const inbound = input.inbound ?? false;
    const result = input.result ?? (durationSeconds > 0 ? "LA" : "NO_ANS");
    const labels = parseLabels(input.labels, "labels");

    // Inside the billing lock every ingest for this account runs alone, so looking up the
    // externalId first cannot race with another ingest of the same call.
    return this.billing.withBillingLock(accountId, async ({ trx, now, charge }) => {
      if (externalId !== undefined) {
        const existing = await this.chargedRows(trx).where("call.account_id", "=", accountId).where("call.external_id", "=", externalId).executeTakeFirst();
        if (existing) {
          const same =
            existing.from_number === fromNumber &&
            existing.to_number === toNumber &&
            existing.start_time === startTime &&
            existing.duration_seconds === durationSeconds &&
            existing.campaign_id === (campaignId ?? null) &&
            existing.inbound === (inbound ? 1 : 0) &&
            existing.final_result === result &&
            existing.labels === jsonOrNull(labels);
          if (!same) throw new Conflict(`externalId ${externalId} was already used for call ${existing.id}, with other details`);
          return { call: toAdminCall(existing) as ChargedCall, created: false };
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
          modified: now,
          state: "FINISHED",
          inbound: inbound ? 1 : 0,
          final_result: result,
          finish_time: startTime + durationSeconds * 1000,
          labels: jsonOrNull(labels),
          batch_id: null,
          script: null,
          attributes: null,
          caller_name: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      if (labels.length > 0) {
        await trx
          .insertInto("call_label")
          .values(labels.map((label) => ({ call_id: row.id, label, account_id: accountId, created: now })))
          .execute();
      }
      const minutes = Math.ceil(durationSeconds / 60);
      const charged = await charge({ kind: "CALL", time: startTime, callId: row.id, minutes });
      return { call: toAdminCall({ ...row, ...{ ...ledgerColumnsOf(charged.charge), call_minutes: minutes } }) as ChargedCall, created: true };
    });
  }

  /**
   * The outcome of a sent call: it is FINISHED with its result, and charged its started minutes,
   * once. The same report again answers the first result and charges nothing (`created` false);
   * another report for a finished call is a 409. The admin route and the simulator both come here.
   */
  async reportOutcome(callId: number, outcome: CallOutcome): Promise<{ call: AdminCall; created: boolean }> {
    const { result, durationSeconds, callerName } = outcome;
    checkDuration(durationSeconds);
    if (!callResults.includes(result)) throw new BadRequest(`result: must be one of ${callResults.join(", ")}`);
    if (callerName !== undefined && (callerName.length < 1 || callerName.length > 255)) throw new BadRequest("callerName: must be 1 to 255 characters");
    const owner = await this.db.selectFrom("call").select("account_id").where("id", "=", callId).executeTakeFirst();
    if (!owner) throw callNotFound(callId);

    return this.billing.withBillingLock(owner.account_id, async ({ trx, now, charge }) => {
      const call = await this.chargedRows(trx).where("call.id", "=", callId).executeTakeFirstOrThrow();
      if (call.state === "FINISHED") {
        const same =
          call.final_result === result &&
          call.duration_seconds === durationSeconds &&
          (outcome.finishTime === undefined || call.finish_time === outcome.finishTime) &&
          (callerName === undefined || call.caller_name === callerName);
        if (!same) {
          throw new Conflict(`call ${callId} already finished with result ${call.final_result} after ${call.duration_seconds} s; its outcome cannot change`);
        }
        return { call: toAdminCall(call), created: false };
      }
      const finishTime = outcome.finishTime ?? now;
      checkUsageTime(finishTime, "finishTime", now);
      const startTime = finishTime - durationSeconds * 1000;
      const minutes = Math.ceil(durationSeconds / 60);
      const charged = await charge({ kind: "CALL", time: startTime, callId, minutes });
      const finished = await trx
        .updateTable("call")
        .set({
          state: "FINISHED",
          final_result: result,
          start_time: startTime,
          duration_seconds: durationSeconds,
          finish_time: finishTime,
          caller_name: callerName ?? null,
          modified: now,
        })
        .where("id", "=", callId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await settleDelivery(trx, "call", callId, now);
      return { call: toAdminCall({ ...finished, ...{ ...ledgerColumnsOf(charged.charge), call_minutes: minutes } }), created: true };
    });
  }

  /** The operator's view of one call, across accounts. */
  async adminCall(callId: number): Promise<AdminCall> {
    const row = await this.chargedRows(this.db).where("call.id", "=", callId).executeTakeFirst();
    if (!row) throw callNotFound(callId);
    return toAdminCall(row);
  }

  /** The operator's list of calls of every account (or one), newest first. */
  async adminList(filter: AdminCallFilter, page: PageRequest): Promise<Page<AdminCall>> {
    let filtered = this.db.selectFrom("call");
    if (filter.accountId !== undefined) filtered = filtered.where("call.account_id", "=", filter.accountId);
    if (filter.state !== undefined) filtered = filtered.where("call.state", "=", filter.state);
    if (filter.intervalBegin !== undefined) filtered = filtered.where("call.start_time", ">=", filter.intervalBegin);
    if (filter.intervalEnd !== undefined) filtered = filtered.where("call.start_time", "<", filter.intervalEnd);
    const ids = filtered.select("call.id").orderBy("call.id", "desc").limit(page.limit).offset(page.offset);
    const rows = await this.chargedRows(this.db).where("call.id", "in", ids).orderBy("call.id", "desc").execute();
    const totalCount =
      rows.length < page.limit && (rows.length > 0 || page.offset === 0) ? page.offset + rows.length : await boundedCount(this.db, filtered);
    return { items: rows.map(toAdminCall), limit: page.limit, offset: page.offset, totalCount };
  }

  /**
   * Deletes a call with its labels, recordings (and then their MP3s) and any delivery of it still
   * queued. What it was charged stays in the ledger, no longer pointing at it.
   */
  async delete(callId: number): Promise<void> {
    const blobKeys = await this.db.transaction().execute(async (trx) => {
      // No recording can be attached meanwhile: its MP3 would go unseen.
      await lockForDeletion(trx, this.dialect, "call", "id", callId);
      const recordings = await trx.selectFrom("call_recording").select("blob_key").where("call_id", "=", callId).execute();
      const deleted = await trx.deleteFrom("call").where("id", "=", callId).executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) throw callNotFound(callId);
      await trx.deleteFrom("call_outbox").where("type", "in", ["call", "simulatedCallOutcome"]).where("action_id", "=", callId).execute();
      return recordings.flatMap((row) => (row.blob_key === null ? [] : [row.blob_key]));
    });
    await deleteReleasedBlobs(this.db, this.recordings.blobs, blobKeys);
  }

  /** findCalls: newest first. */
  async find(accountId: number, query: CallQuery, page: PageRequest, publicBase: string): Promise<Page<Call>> {
    const { counted, rows: pageQuery } = callListQuery(this.db, accountId, query, page);
    const rows = await pageQuery.execute();
    const totalCount =
      rows.length < page.limit && (rows.length > 0 || page.offset === 0) ? page.offset + rows.length : await boundedCount(this.db, counted);
    return { items: await this.toCalls(accountId, rows, publicBase), limit: page.limit, offset: page.offset, totalCount };
  }

  async get(accountId: number, callId: number, publicBase: string): Promise<Call> {
    const row = await this.chargedRows(this.db).where("call.account_id", "=", accountId).where("call.id", "=", callId).executeTakeFirst();
    if (!row) throw callNotFound(callId);
    const [call] = await this.toCalls(accountId, [row], publicBase);
    return call!;
  }

  private chargedRows(db: Kysely<Tables> | Transaction<Tables>) {
    return db
      .selectFrom("call")
      .leftJoin("usage_charge", "usage_charge.call_id", "call.id")
      .selectAll("call")
      .select(["usage_charge.credits", "usage_charge.plan_credits", "usage_charge.pay_as_you_go_credits", "usage_charge.call_minutes"]);
  }

  /** Calls with their records; the recordings of a whole page come in one query. */
  private async toCalls(accountId: number, rows: ChargedCallRow[], publicBase: string): Promise<Call[]> {
    const finished = rows.filter((row) => row.state === "FINISHED");
    const recordings = await this.recordings.forCalls(accountId, finished, publicBase);
    return rows.map((row) => toCall(row, recordings.get(row.id)));
  }
}

/** findCalls' queries: what the count reads, and one page of the calls with their charges. */
export function callListQuery(db: Kysely<Tables>, accountId: number, query: CallQuery, page: PageRequest) {
  const filter: ActionFilter = {
    ...query,
    states: parseEnumList(query.states, actionStates, "states"),
    results: parseEnumList(query.results, callResults, "results"),
  };
  if (filter.fromNumber !== undefined) filter.fromNumber = parsePhoneNumber(filter.fromNumber, "fromNumber");
  if (filter.toNumber !== undefined) filter.toNumber = parsePhoneNumber(filter.toNumber, "toNumber");
  const { counted } = filteredActions(db, "call", accountId, filter);
  const rows = actionPage(db, "call", accountId, filter, page, (calls) =>
    calls
      .leftJoin("usage_charge", "usage_charge.call_id", "call.id")
      .selectAll("call")
      .select(["usage_charge.credits", "usage_charge.plan_credits", "usage_charge.pay_as_you_go_credits", "usage_charge.call_minutes"]),
  );
  return { counted, rows };
}

function checkDuration(durationSeconds: number): void {
  if (!Number.isInteger(durationSeconds) || durationSeconds < 0 || durationSeconds > maxCallSeconds) {
    throw new BadRequest(`durationSeconds: must be a whole number of seconds from 0 to ${maxCallSeconds}`);
  }
}


function toAdminCall(row: ChargedCallRow): AdminCall {
  const finished = row.state === "FINISHED";
  return {
    id: row.id,
    accountId: row.account_id,
    fromNumber: row.from_number,
    toNumber: row.to_number,
    inbound: row.inbound === 1,
    state: row.state,
    result: (row.final_result as CallResult | null) ?? undefined,
    startTime: finished ? row.start_time : undefined,
    durationSeconds: finished ? row.duration_seconds : undefined,
    finishTime: row.finish_time ?? undefined,
    callerName: row.caller_name ?? undefined,
    campaignId: row.campaign_id ?? undefined,
    batchId: row.batch_id ?? undefined,
    externalId: row.external_id ?? undefined,
    labels: parsedJson<string[]>(row.labels),
    created: row.created,
    modified: row.modified,
    charge:
      row.credits === null
        ? undefined
        : { minutes: row.call_minutes!, ...chargeOf({ credits: row.credits, plan_credits: row.plan_credits!, pay_as_you_go_credits: row.pay_as_you_go_credits! }) },
  };
}

export function toCall(row: ChargedCallRow | CallRow, recordings?: CallRecording[]): Call {
  const result = (row.final_result as CallResult | null) ?? undefined;
  const credits = "credits" in row ? row.credits : null;
  return {
    id: row.id,
    fromNumber: row.from_number,
    toNumber: row.to_number,
    state: row.state,
    campaignId: row.campaign_id ?? undefined,
    batchId: row.batch_id ?? undefined,
    inbound: row.inbound === 1,
    created: row.created,
    modified: row.modified,
    attributes: parsedJson<Record<string, string>>(row.attributes),
    labels: parsedJson<string[]>(row.labels),
    finalCallResult: row.state === "FINISHED" ? result : undefined,
    records:
      row.state === "FINISHED" && result !== undefined
        ? [
            {
              id: row.id,
              billedAmount: credits === null ? 0 : creditsToNumber(credits),
              finishTime: row.finish_time!,
              callerName: row.caller_name ?? undefined,
              result,
              callResult: result,
              recordings: recordings && recordings.length > 0 ? recordings : undefined,
            },
          ]
        : undefined,
    agentCall: false,
  };
}

function callNotFound(callId: number): NotFound {
  return new NotFound(`call ${callId} not found`);
}
