import type { Kysely, Transaction } from "kysely";
import type { ActionState, MediaRow, Tables, TextRow } from "../db/tables.js";
import { BadRequest, Conflict, NotFound } from "../errors.js";
import { actionPage, actionStates, filteredActions, jsonOrNull, parseEnumList, parseLabels, parsedJson, textResults, type ActionFilter, type TextResult } from "./actions.js";
import { checkUsageTime, chargeOf, ledgerColumnsOf, type BillingService, type UsageCharge } from "./billing.js";
import { settleDelivery } from "./call-outbox.js";
import { creditsToNumber } from "./credits.js";
import { toMedia, type Media } from "./media.js";
import { boundedCount, type Page, type PageRequest } from "./paging.js";
import { parsePhoneNumber } from "./phone-numbers.js";
import { mediaNotFound } from "./sending.js";

/** One segment up to this many characters; longer messages are billed per `segmentLength`. */
export const singleSegmentLength = 160;
export const segmentLength = 153;
/** Ten segments: longer is not a text message. */
export const maxTextLength = 10 * segmentLength;
export const maxTextMedia = 10;

/** What a text is billed as: 1 text up to 160 characters (or media alone), else one per 153-character segment. */
export function textSegments(message: string | undefined): number {
  const length = message === undefined ? 0 : [...message].length;
  return length <= singleSegmentLength ? 1 : Math.ceil(length / segmentLength);
}

/** Checks a message's length in characters (code points, as a phone counts them). */
export function checkMessage(message: string, field: string): void {
  const length = [...message].length;
  if (length < 1 || length > maxTextLength) {
    throw new BadRequest(`${field}: must be 1 to ${maxTextLength} characters (160 in one text; longer ones are billed per ${segmentLength}-character segment)`);
  }
}

/** A text as the operator reports it, sent or received by its platform. */
export interface TextInput {
  fromNumber: string;
  toNumber: string;
  message?: string;
  /** Ids of the account's media it carried. */
  media?: number[];
  inbound?: boolean;
  /** When it was sent or received (default now). */
  time?: number;
  /** Default: RECEIVED for inbound texts, SENT for others. */
  result?: TextResult;
  externalId?: string;
  labels?: string[];
}

export interface TextOutcome {
  result: TextResult;
  finishTime?: number;
}

export interface AdminText {
  id: number;
  accountId: number;
  fromNumber: string;
  toNumber: string;
  inbound: boolean;
  state: ActionState;
  message?: string;
  mediaIds?: number[];
  segments: number;
  result?: TextResult;
  finishTime?: number;
  campaignId?: number;
  batchId?: number;
  externalId?: string;
  labels?: string[];
  created: number;
  modified: number;
  charge?: UsageCharge & { texts: number };
}

export interface TextRecord {
  id: number;
  billedAmount: number;
  finishTime: number;
  message?: string;
  textResult: TextResult;
}

/** CallFire's Text. */
export interface Text {
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
  message?: string;
  finalTextResult?: TextResult;
  records?: TextRecord[];
  media?: Media[];
}

export interface TextQuery extends Omit<ActionFilter, "states" | "results"> {
  states?: string;
  results?: string;
}

type ChargedTextRow = TextRow & { credits: number | null; plan_credits: number | null; pay_as_you_go_credits: number | null; texts: number | null };

/** Results that used the carrier: billed; the others (refused, undelivered) cost nothing. */
const billedResults: readonly TextResult[] = ["SENT", "RECEIVED"];

export class TextService {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly billing: BillingService,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a text the operator's platform sent or received, FINISHED, and charges its segments. */
  async ingest(accountId: number, input: TextInput): Promise<{ text: AdminText; created: boolean }> {
    const fromNumber = parsePhoneNumber(input.fromNumber, "fromNumber");
    const toNumber = parsePhoneNumber(input.toNumber, "toNumber");
    if (input.message !== undefined) checkMessage(input.message, "message");
    const mediaIds = input.media ?? [];
    if (input.message === undefined && mediaIds.length === 0) throw new BadRequest("message: a text needs a message or media");
    if (mediaIds.length > maxTextMedia) throw new BadRequest(`media: at most ${maxTextMedia}`);
    const inbound = input.inbound ?? false;
    const result = input.result ?? (inbound ? "RECEIVED" : "SENT");
    const time = input.time ?? this.now();
    checkUsageTime(time, "time", this.now());
    const labels = parseLabels(input.labels, "labels");
    const { externalId } = input;
    const segments = textSegments(input.message);

    return this.billing.withBillingLock(accountId, async ({ trx, now, charge }) => {
      if (externalId !== undefined) {
        const existing = await this.chargedRows(trx).where("text.account_id", "=", accountId).where("text.external_id", "=", externalId).executeTakeFirst();
        if (existing) {
          const [view] = await this.adminTexts(trx, [existing]);
          const same =
            existing.from_number === fromNumber &&
            existing.to_number === toNumber &&
            existing.message === (input.message ?? null) &&
            existing.inbound === (inbound ? 1 : 0) &&
            existing.final_result === result &&
            (input.time === undefined || existing.finish_time === input.time) &&
            JSON.stringify(view!.mediaIds ?? []) === JSON.stringify(mediaIds);
          if (!same) throw new Conflict(`externalId ${externalId} was already used for text ${existing.id}, with other details`);
          return { text: view!, created: false };
        }
      }
      const media = await trx.selectFrom("media").select("id").where("account_id", "=", accountId).where("id", "in", mediaIds.length > 0 ? mediaIds : [0]).execute();
      const missing = mediaIds.find((id) => !media.some((m) => m.id === id));
      if (missing !== undefined) throw mediaNotFound("media", missing);

      const row = await trx
        .insertInto("text")
        .values({
          account_id: accountId,
          from_number: fromNumber,
          to_number: toNumber,
          inbound: inbound ? 1 : 0,
          state: "FINISHED",
          batch_id: null,
          campaign_id: null,
          message: input.message ?? null,
          segments,
          attributes: null,
          labels: jsonOrNull(labels),
          final_result: result,
          finish_time: time,
          external_id: externalId ?? null,
          created: now,
          modified: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await insertTextMedia(trx, [{ textId: row.id, mediaIds }]);
      if (labels.length > 0) {
        await trx.insertInto("text_label").values(labels.map((label) => ({ text_id: row.id, label, account_id: accountId, created: now }))).execute();
      }
      const texts = billedResults.includes(result) ? segments : 0;
      const charged = await charge({ kind: "TEXT", time, texts, textId: row.id });
      const [view] = await this.adminTexts(trx, [{ ...row, ...{ ...ledgerColumnsOf(charged.charge), texts } }]);
      return { text: view!, created: true };
    });
  }

  /** The outcome of a sent text: FINISHED with its result, and charged its segments once (delivered ones only). */
  async reportOutcome(textId: number, outcome: TextOutcome): Promise<{ text: AdminText; created: boolean }> {
    const { result } = outcome;
    if (!textResults.includes(result)) throw new BadRequest(`result: must be one of ${textResults.join(", ")}`);
    const owner = await this.db.selectFrom("text").select("account_id").where("id", "=", textId).executeTakeFirst();
    if (!owner) throw textNotFound(textId);

    return this.billing.withBillingLock(owner.account_id, async ({ trx, now, charge }) => {
      const text = await this.chargedRows(trx).where("text.id", "=", textId).executeTakeFirstOrThrow();
      if (text.state === "FINISHED") {
        if (text.final_result !== result || (outcome.finishTime !== undefined && text.finish_time !== outcome.finishTime)) {
          throw new Conflict(`text ${textId} already finished with result ${text.final_result}; its outcome cannot change`);
        }
        const [view] = await this.adminTexts(trx, [text]);
        return { text: view!, created: false };
      }
      const finishTime = outcome.finishTime ?? now;
      checkUsageTime(finishTime, "finishTime", now);
      const texts = billedResults.includes(result) ? text.segments : 0;
      const charged = await charge({ kind: "TEXT", time: finishTime, texts, textId });
      const finished = await trx
        .updateTable("text")
        .set({ state: "FINISHED", final_result: result, finish_time: finishTime, modified: now })
        .where("id", "=", textId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await settleDelivery(trx, "text", textId, now);
      const [view] = await this.adminTexts(trx, [{ ...finished, ...{ ...ledgerColumnsOf(charged.charge), texts } }]);
      return { text: view!, created: true };
    });
  }

  async adminText(textId: number): Promise<AdminText> {
    const row = await this.chargedRows(this.db).where("text.id", "=", textId).executeTakeFirst();
    if (!row) throw textNotFound(textId);
    const [view] = await this.adminTexts(this.db, [row]);
    return view!;
  }

  /** The operator's list of texts of every account (or one), newest first; the interval is on `created`. */
  async adminList(filter: { accountId?: number; state?: ActionState; intervalBegin?: number; intervalEnd?: number }, page: PageRequest): Promise<Page<AdminText>> {
    let filtered = this.db.selectFrom("text");
    if (filter.accountId !== undefined) filtered = filtered.where("text.account_id", "=", filter.accountId);
    if (filter.state !== undefined) filtered = filtered.where("text.state", "=", filter.state);
    if (filter.intervalBegin !== undefined) filtered = filtered.where("text.created", ">=", filter.intervalBegin);
    if (filter.intervalEnd !== undefined) filtered = filtered.where("text.created", "<", filter.intervalEnd);
    const ids = filtered.select("text.id").orderBy("text.id", "desc").limit(page.limit).offset(page.offset);
    const rows = await this.chargedRows(this.db).where("text.id", "in", ids).orderBy("text.id", "desc").execute();
    const totalCount =
      rows.length < page.limit && (rows.length > 0 || page.offset === 0) ? page.offset + rows.length : await boundedCount(this.db, filtered);
    return { items: await this.adminTexts(this.db, rows), limit: page.limit, offset: page.offset, totalCount };
  }

  /** Deletes a text (its labels, its links to media, any delivery still queued); its charge stays in the ledger. */
  async delete(textId: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom("text").where("id", "=", textId).executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) throw textNotFound(textId);
      await trx.deleteFrom("call_outbox").where("type", "in", ["text", "simulatedTextOutcome"]).where("action_id", "=", textId).execute();
    });
  }

  /** findTexts: newest first. */
  async find(accountId: number, query: TextQuery, page: PageRequest, publicBase: string): Promise<Page<Text>> {
    const filter: ActionFilter = {
      ...query,
      states: parseEnumList(query.states, actionStates, "states"),
      results: parseEnumList(query.results, textResults, "results"),
    };
    if (filter.fromNumber !== undefined) filter.fromNumber = parsePhoneNumber(filter.fromNumber, "fromNumber");
    if (filter.toNumber !== undefined) filter.toNumber = parsePhoneNumber(filter.toNumber, "toNumber");
    const { counted } = filteredActions(this.db, "text", accountId, filter);
    const rows = await actionPage(this.db, "text", accountId, filter, page, (texts) =>
      texts
        .leftJoin("usage_charge", "usage_charge.text_id", "text.id")
        .selectAll("text")
        .select(["usage_charge.credits", "usage_charge.plan_credits", "usage_charge.pay_as_you_go_credits", "usage_charge.texts"]),
    ).execute();
    const totalCount =
      rows.length < page.limit && (rows.length > 0 || page.offset === 0) ? page.offset + rows.length : await boundedCount(this.db, counted);
    return { items: await this.toTexts(rows, publicBase), limit: page.limit, offset: page.offset, totalCount };
  }

  async get(accountId: number, textId: number, publicBase: string): Promise<Text> {
    const row = await this.chargedRows(this.db).where("text.account_id", "=", accountId).where("text.id", "=", textId).executeTakeFirst();
    if (!row) throw textNotFound(textId);
    const [text] = await this.toTexts([row], publicBase);
    return text!;
  }

  private chargedRows(db: Kysely<Tables> | Transaction<Tables>) {
    return db
      .selectFrom("text")
      .leftJoin("usage_charge", "usage_charge.text_id", "text.id")
      .selectAll("text")
      .select(["usage_charge.credits", "usage_charge.plan_credits", "usage_charge.pay_as_you_go_credits", "usage_charge.texts"]);
  }

  private async toTexts(rows: ChargedTextRow[], publicBase: string): Promise<Text[]> {
    const media = await mediaOfTexts(this.db, rows.map((row) => row.id));
    return rows.map((row) => toText(row, media.get(row.id)?.map((m) => toMedia(m, publicBase))));
  }

  private async adminTexts(db: Kysely<Tables> | Transaction<Tables>, rows: ChargedTextRow[]): Promise<AdminText[]> {
    const media = await mediaOfTexts(db, rows.map((row) => row.id));
    return rows.map((row) => toAdminText(row, media.get(row.id)?.map((m) => m.id)));
  }
}

export async function insertTextMedia(trx: Transaction<Tables>, texts: Array<{ textId: number; mediaIds: number[] }>): Promise<void> {
  const rows = texts.flatMap(({ textId, mediaIds }) => mediaIds.map((mediaId, position) => ({ text_id: textId, position, media_id: mediaId })));
  for (let start = 0; start < rows.length; start += 500) {
    await trx.insertInto("text_media").values(rows.slice(start, start + 500)).execute();
  }
}

async function mediaOfTexts(db: Kysely<Tables> | Transaction<Tables>, textIds: number[]): Promise<Map<number, MediaRow[]>> {
  const byText = new Map<number, MediaRow[]>();
  if (textIds.length === 0) return byText;
  const rows = await db
    .selectFrom("text_media")
    .innerJoin("media", "media.id", "text_media.media_id")
    .selectAll("media")
    .select("text_media.text_id")
    .where("text_media.text_id", "in", textIds)
    .orderBy("text_media.text_id")
    .orderBy("text_media.position")
    .execute();
  for (const { text_id, ...media } of rows) {
    const list = byText.get(text_id) ?? [];
    list.push(media);
    byText.set(text_id, list);
  }
  return byText;
}


function toAdminText(row: ChargedTextRow, mediaIds: number[] | undefined): AdminText {
  return {
    id: row.id,
    accountId: row.account_id,
    fromNumber: row.from_number,
    toNumber: row.to_number,
    inbound: row.inbound === 1,
    state: row.state,
    message: row.message ?? undefined,
    mediaIds,
    segments: row.segments,
    result: (row.final_result as TextResult | null) ?? undefined,
    finishTime: row.finish_time ?? undefined,
    campaignId: row.campaign_id ?? undefined,
    batchId: row.batch_id ?? undefined,
    externalId: row.external_id ?? undefined,
    labels: parsedJson<string[]>(row.labels),
    created: row.created,
    modified: row.modified,
    charge:
      row.credits === null
        ? undefined
        : { texts: row.texts!, ...chargeOf({ credits: row.credits, plan_credits: row.plan_credits!, pay_as_you_go_credits: row.pay_as_you_go_credits! }) },
  };
}

export function toText(row: TextRow & { credits?: number | null }, media: Media[] | undefined): Text {
  const result = (row.final_result as TextResult | null) ?? undefined;
  const finished = row.state === "FINISHED" && result !== undefined;
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
    message: row.message ?? undefined,
    finalTextResult: finished ? result : undefined,
    records: finished
      ? [{ id: row.id, billedAmount: row.credits == null ? 0 : creditsToNumber(row.credits), finishTime: row.finish_time!, message: row.message ?? undefined, textResult: result }]
      : undefined,
    media: media && media.length > 0 ? media : undefined,
  };
}

function textNotFound(textId: number): NotFound {
  return new NotFound(`text ${textId} not found`);
}
