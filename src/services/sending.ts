import { createHash } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import type { BatchKind, MediaRow, Tables } from "../db/tables.js";
import { BadRequest, Conflict } from "../errors.js";
import { maxRecipients } from "./actions.js";
import type { BillingTransaction } from "./billing.js";
import { creditsToNumber } from "./credits.js";
import { mediaFormats, type MediaFormat } from "./media-formats.js";

// The rules sendCalls and sendTexts share: the caller ID, the recipients' count, the account's
// own media, sufficient credits, batches and Idempotency-Key.

/** How long an Idempotency-Key answers its first response. */
export const idempotencyKeyTtlMs = 24 * 60 * 60_000;

export function checkRecipientCount(count: number): void {
  if (count < 1) throw new BadRequest("body: send an array of at least one recipient");
  if (count > maxRecipients) throw new BadRequest(`body: at most ${maxRecipients} recipients per request, not ${count}`);
}

/**
 * The caller ID a recipient is sent from: its own fromNumber, which must be one of the account's
 * verified numbers, else the first of them (as getCallerIds lists them).
 */
export function callerIdFor(verified: string[], fromNumber: string | undefined, field: string, parse: (text: string, field: string) => string): string {
  if (verified.length === 0) {
    throw new BadRequest("verify a caller ID first: POST /v2/me/callerids/{callerid} calls it with a code, POST /v2/me/callerids/{callerid}/verification-code verifies it");
  }
  if (fromNumber === undefined) return verified[0]!;
  const number = parse(fromNumber, field);
  if (!verified.includes(number)) throw new BadRequest(`${field}: ${number} is not a verified caller ID of this account (see getCallerIds)`);
  return number;
}

/** The account's media among `ids`; another account's media is simply not there. */
export async function ownMedia(trx: Transaction<Tables>, accountId: number, ids: Iterable<number>): Promise<Map<number, MediaRow>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await trx.selectFrom("media").selectAll().where("account_id", "=", accountId).where("id", "in", unique).execute();
  return new Map(rows.map((row) => [row.id, row]));
}

export function mediaNotFound(field: string, id: number): BadRequest {
  return new BadRequest(`${field}: media ${id} not found`);
}

/** The public download link of a media file: what the platform fetches to play or attach it. */
export function mediaUrl(media: MediaRow, publicBase: string): string {
  return `${publicBase}/v2/media/public/${media.public_key}.${mediaFormats[media.format as MediaFormat].urlExtension}`;
}

/**
 * The charge happens when the outcome is known; up front, the account's credits must cover what
 * is being sent plus what it sent that has not finished yet (`units` of credits, ten-thousandths).
 */
export function requireCredits(billing: BillingTransaction, units: number, what: string): void {
  const remaining = billing.remainingCredits();
  if (units > remaining) {
    throw new BadRequest(
      `insufficient credits: ${what} need ${creditsToNumber(units)} credits up front, and ${creditsToNumber(Math.max(0, remaining))} are left`,
    );
  }
}

export async function newBatch(trx: Transaction<Tables>, accountId: number, kind: BatchKind, now: number): Promise<number> {
  const row = await trx.insertInto("send_batch").values({ account_id: accountId, kind, created: now }).returning("id").executeTakeFirstOrThrow();
  return row.id;
}

/** Removes the Idempotency-Keys that no longer answer (the delivery worker's pass runs it). */
export async function forgetExpiredIdempotencyKeys(db: Kysely<Tables>, now: number): Promise<void> {
  await db.deleteFrom("idempotency_key").where("created", "<=", now - idempotencyKeyTtlMs).execute();
}

export interface IdempotentRequest {
  key: string;
  /** Everything that makes the request what it is (its query and body, not `fields`). */
  request: unknown;
}

/**
 * Runs `send` once per Idempotency-Key: the first response is kept (in `trx`, so with what it
 * created) and answered to a retry with the same request for 24 hours; the same key with another
 * request is a 409. `trx` holds the account (the billing lock), so two requests with one key
 * cannot both send.
 */
export async function once<T>(
  trx: Transaction<Tables>,
  accountId: number,
  operation: string,
  idempotent: IdempotentRequest | undefined,
  now: number,
  send: () => Promise<T>,
): Promise<T> {
  if (!idempotent) return send();
  const digest = createHash("sha256").update(JSON.stringify(idempotent.request)).digest("hex");
  const existing = await trx
    .selectFrom("idempotency_key")
    .selectAll()
    .where("account_id", "=", accountId)
    .where("operation", "=", operation)
    .where("key", "=", idempotent.key)
    .executeTakeFirst();
  if (existing && existing.created > now - idempotencyKeyTtlMs) {
    if (existing.request_digest !== digest) {
      throw new Conflict(`Idempotency-Key ${idempotent.key} was already used for another ${operation} request`);
    }
    return JSON.parse(existing.response) as T;
  }
  if (existing) {
    await trx.deleteFrom("idempotency_key").where("account_id", "=", accountId).where("operation", "=", operation).where("key", "=", idempotent.key).execute();
  }
  const response = await send();
  await trx
    .insertInto("idempotency_key")
    .values({ account_id: accountId, operation, key: idempotent.key, request_digest: digest, response: JSON.stringify(response), created: now })
    .execute();
  return response;
}
