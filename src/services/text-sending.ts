import type { Kysely } from "kysely";
import type { Tables } from "../db/tables.js";
import { BadRequest } from "../errors.js";
import { jsonOrNull } from "./actions.js";
import type { BillingService } from "./billing.js";
import { queueDeliveries } from "./call-outbox.js";
import type { CallerIdService } from "./caller-ids.js";
import { mediaFormats, type MediaFormat } from "./media-formats.js";
import { toMedia } from "./media.js";
import { parsePhoneNumber } from "./phone-numbers.js";
import { callerIdFor, checkRecipientCount, mediaNotFound, mediaUrl, newBatch, once, ownMedia, requireCredits, type IdempotentRequest } from "./sending.js";
import { checkMessage, insertTextMedia, maxTextMedia, textSegments, toText, type Text } from "./texts.js";

/** CallFire's TextRecipient. `media` are Media objects with an id (bare ids are taken too). */
export interface TextRecipient {
  phoneNumber?: string;
  fromNumber?: string;
  contactId?: number;
  attributes?: Record<string, string>;
  message?: string;
  media?: Array<{ id?: number } | number>;
}

export interface SendTextsOptions {
  campaignId?: number;
  defaultMessage?: string;
}

interface ValidRecipient {
  to: string;
  fromNumber?: string;
  message?: string;
  mediaIds: number[];
  segments: number;
  attributes?: Record<string, string>;
}

/** sendTexts: the same rules and transaction as sendCalls (src/services/call-sending.ts), for texts. */
export class TextSender {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly billing: BillingService,
    private readonly callerIds: CallerIdService,
  ) {}

  async send(
    accountId: number,
    recipients: TextRecipient[],
    options: SendTextsOptions,
    publicBase: string,
    idempotent?: IdempotentRequest,
  ): Promise<{ items: Text[] }> {
    checkRecipientCount(recipients.length);
    const valid = recipients.map((recipient, index) => checkRecipient(recipient, options, `body[${index}]`));

    return this.billing.withBillingLock(accountId, (billing) =>
      once(billing.trx, accountId, "sendTexts", idempotent, billing.now, async () => {
        const { trx, now } = billing;
        const verified = await this.callerIds.listVerified(accountId, trx);
        const from = valid.map((recipient, index) => callerIdFor(verified, recipient.fromNumber, `body[${index}].fromNumber`, parsePhoneNumber));
        const media = await ownMedia(trx, accountId, valid.flatMap((recipient) => recipient.mediaIds));
        valid.forEach((recipient, index) =>
          recipient.mediaIds.forEach((id, position) => {
            if (!media.has(id)) throw mediaNotFound(`body[${index}].media[${position}]`, id);
          }),
        );

        // One text per segment, for these and for the account's texts not finished yet.
        const unfinished = await trx
          .selectFrom("text")
          .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("segments"), eb.lit(0)).as("n"))
          .where("account_id", "=", accountId)
          .where("state", "in", ["READY", "SELECTED"])
          .executeTakeFirstOrThrow();
        const segments = valid.reduce((sum, recipient) => sum + recipient.segments, 0) + Number(unfinished.n);
        requireCredits(billing, segments * billing.plan.creditsPerText, `${segments} text(s) (these texts' segments and the unfinished ones')`);

        const batchId = await newBatch(trx, accountId, "TEXTS", now);
        const rows = [];
        for (let start = 0; start < valid.length; start += 250) {
          rows.push(
            ...(await trx
              .insertInto("text")
              .values(
                valid.slice(start, start + 250).map((recipient, offset) => ({
                  account_id: accountId,
                  from_number: from[start + offset]!,
                  to_number: recipient.to,
                  inbound: 0,
                  state: "READY" as const,
                  batch_id: batchId,
                  campaign_id: options.campaignId ?? null,
                  message: recipient.message ?? null,
                  segments: recipient.segments,
                  attributes: jsonOrNull(recipient.attributes),
                  labels: null,
                  final_result: null,
                  finish_time: null,
                  external_id: null,
                  created: now,
                  modified: now,
                })),
              )
              .returningAll()
              .execute()),
          );
        }
        rows.sort((a, b) => a.id - b.id);
        await insertTextMedia(trx, rows.map((row, index) => ({ textId: row.id, mediaIds: valid[index]!.mediaIds })));
        await queueDeliveries(
          trx,
          rows.map((row, index) => ({
            type: "text",
            accountId,
            actionId: row.id,
            to: row.to_number,
            payload: {
              accountId,
              textId: row.id,
              batchId,
              campaignId: options.campaignId,
              from: row.from_number,
              to: row.to_number,
              message: row.message ?? undefined,
              segments: row.segments,
              media: valid[index]!.mediaIds.map((id) => {
                const item = media.get(id)!;
                return { id, mediaType: mediaFormats[item.format as MediaFormat].mediaType, url: mediaUrl(item, publicBase) };
              }),
              attributes: valid[index]!.attributes,
              created: now,
            },
          })),
          now,
        );
        return { items: rows.map((row, index) => toText(row, valid[index]!.mediaIds.map((id) => toMedia(media.get(id)!, publicBase)))) };
      }),
    );
  }
}

function checkRecipient(recipient: TextRecipient, options: SendTextsOptions, at: string): ValidRecipient {
  if (recipient.contactId !== undefined) throw new BadRequest(`${at}.contactId: contacts are not kept here; give the phoneNumber to text`);
  if (recipient.phoneNumber === undefined) throw new BadRequest(`${at}.phoneNumber: is required`);
  const to = parsePhoneNumber(recipient.phoneNumber, `${at}.phoneNumber`);
  const message = recipient.message ?? options.defaultMessage;
  if (message !== undefined) checkMessage(message, recipient.message === undefined ? "query parameter defaultMessage" : `${at}.message`);
  const mediaIds = (recipient.media ?? []).map((item, position) => {
    const id = typeof item === "number" ? item : item.id;
    if (id === undefined) throw new BadRequest(`${at}.media[${position}].id: is required (media are given by the id of the account's media)`);
    return id;
  });
  if (mediaIds.length > maxTextMedia) throw new BadRequest(`${at}.media: at most ${maxTextMedia} media per text`);
  if (message === undefined && mediaIds.length === 0) {
    throw new BadRequest(`${at}.message: a text needs a message or media (or the query's defaultMessage)`);
  }
  return { to, fromNumber: recipient.fromNumber, message, mediaIds, segments: textSegments(message), attributes: recipient.attributes };
}
