import type { Kysely } from "kysely";
import type { MediaRow, Tables } from "../db/tables.js";
import { BadRequest } from "../errors.js";
import { jsonOrNull, type Voice } from "./actions.js";
import type { BillingService } from "./billing.js";
import { queueDeliveries } from "./call-outbox.js";
import type { CallerIdService } from "./caller-ids.js";
import { toCall, type Call } from "./calls.js";
import { mediaFormats, type MediaFormat } from "./media-formats.js";
import { parsePhoneNumber } from "./phone-numbers.js";
import { callerIdFor, checkRecipientCount, mediaNotFound, mediaUrl, newBatch, once, ownMedia, requireCredits, type IdempotentRequest } from "./sending.js";

/** CallFire's CallRecipient. */
export interface CallRecipient {
  phoneNumber?: string;
  fromNumber?: string;
  contactId?: number;
  attributes?: Record<string, string>;
  dialplanXml?: string;
  liveMessage?: string;
  liveMessageSoundId?: number;
  machineMessage?: string;
  machineMessageSoundId?: number;
  transferMessage?: string;
  transferMessageSoundId?: number;
  transferDigit?: string;
  transferNumber?: string;
  voice?: Voice;
}

/** sendCalls' query: defaults for every recipient, and the caller's opaque campaign id. */
export interface SendCallsOptions {
  campaignId?: number;
  defaultLiveMessage?: string;
  defaultMachineMessage?: string;
  defaultLiveMessageSoundId?: number;
  defaultMachineMessageSoundId?: number;
  defaultVoice?: Voice;
}

/** What a sent call plays, kept with it (call.script) for the platform and the simulator. */
export interface CallScript {
  liveMessage?: string;
  liveMessageSoundId?: number;
  machineMessage?: string;
  machineMessageSoundId?: number;
  transferMessage?: string;
  transferMessageSoundId?: number;
  transferDigit?: string;
  transferNumber?: string;
  voice?: Voice;
}

const soundFields = ["liveMessageSoundId", "machineMessageSoundId", "transferMessageSoundId"] as const;
const defaultSoundField = { liveMessageSoundId: "defaultLiveMessageSoundId", machineMessageSoundId: "defaultMachineMessageSoundId" } as const;

interface ValidRecipient {
  to: string;
  fromNumber?: string;
  script: CallScript;
  attributes?: Record<string, string>;
  /** Where each sound id came from, to name it in an error. */
  soundSources: Partial<Record<(typeof soundFields)[number], string>>;
}

/**
 * sendCalls: checks every recipient against the rules of sending (a 400 naming the recipient and
 * field, and nothing created for any of them), then creates the calls READY in one batch and
 * queues each for delivery, in one transaction that holds the account's billing.
 */
export class CallSender {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly billing: BillingService,
    private readonly callerIds: CallerIdService,
  ) {}

  async send(
    accountId: number,
    recipients: CallRecipient[],
    options: SendCallsOptions,
    publicBase: string,
    idempotent?: IdempotentRequest,
  ): Promise<{ items: Call[] }> {
    checkRecipientCount(recipients.length);
    const valid = recipients.map((recipient, index) => checkRecipient(recipient, options, `body[${index}]`));

    return this.billing.withBillingLock(accountId, (billing) =>
      once(billing.trx, accountId, "sendCalls", idempotent, billing.now, async () => {
        const { trx, now } = billing;
        const verified = await this.callerIds.listVerified(accountId, trx);
        const from = valid.map((recipient, index) => callerIdFor(verified, recipient.fromNumber, `body[${index}].fromNumber`, parsePhoneNumber));
        const sounds = await ownMedia(trx, accountId, valid.flatMap((r) => soundFields.map((field) => r.script[field]).filter((id) => id !== undefined)));
        valid.forEach((recipient, index) => {
          for (const field of soundFields) {
            const id = recipient.script[field];
            if (id !== undefined) checkSound(sounds.get(id), id, recipient.soundSources[field] ?? `body[${index}].${field}`);
          }
        });

        // One minute per call, for these and for the account's calls not finished yet.
        const unfinished = await trx
          .selectFrom("call")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("account_id", "=", accountId)
          .where("state", "in", ["READY", "SELECTED"])
          .executeTakeFirstOrThrow();
        const calls = valid.length + Number(unfinished.n);
        requireCredits(billing, calls * billing.plan.creditsPerCallMinute, `${calls} call minute(s) (these calls and the unfinished ones)`);

        const batchId = await newBatch(trx, accountId, "CALLS", now);
        const rows = [];
        // Chunks keep each statement's parameters well below SQLite's limit.
        for (let start = 0; start < valid.length; start += 250) {
          rows.push(
            ...(await trx
              .insertInto("call")
              .values(
                valid.slice(start, start + 250).map((recipient, offset) => ({
                  account_id: accountId,
                  from_number: from[start + offset]!,
                  to_number: recipient.to,
                  start_time: now,
                  duration_seconds: 0,
                  campaign_id: options.campaignId ?? null,
                  external_id: null,
                  created: now,
                  modified: now,
                  state: "READY" as const,
                  inbound: 0,
                  batch_id: batchId,
                  script: JSON.stringify(recipient.script),
                  attributes: jsonOrNull(recipient.attributes),
                  labels: null,
                  final_result: null,
                  finish_time: null,
                  caller_name: null,
                })),
              )
              .returningAll()
              .execute()),
          );
        }
        rows.sort((a, b) => a.id - b.id);
        await queueDeliveries(
          trx,
          rows.map((row, index) => ({
            type: "call",
            accountId,
            actionId: row.id,
            to: row.to_number,
            payload: {
              accountId,
              callId: row.id,
              batchId,
              campaignId: options.campaignId,
              from: row.from_number,
              to: row.to_number,
              ...soundsOf(valid[index]!.script, sounds, publicBase),
              attributes: valid[index]!.attributes,
              created: now,
            },
          })),
          now,
        );
        return { items: rows.map((row) => toCall(row)) };
      }),
    );
  }
}

function checkRecipient(recipient: CallRecipient, options: SendCallsOptions, at: string): ValidRecipient {
  if (recipient.contactId !== undefined) throw new BadRequest(`${at}.contactId: contacts are not kept here; give the phoneNumber to call`);
  if (recipient.dialplanXml !== undefined) throw new BadRequest(`${at}.dialplanXml: IVR dialplans are not supported; give liveMessage or liveMessageSoundId`);
  if (recipient.phoneNumber === undefined) throw new BadRequest(`${at}.phoneNumber: is required`);
  const to = parsePhoneNumber(recipient.phoneNumber, `${at}.phoneNumber`);
  const soundSources: ValidRecipient["soundSources"] = {};
  const withDefault = <K extends "liveMessageSoundId" | "machineMessageSoundId">(field: K) => {
    if (recipient[field] !== undefined) return recipient[field];
    const fallback = options[defaultSoundField[field]];
    if (fallback !== undefined) soundSources[field] = `query parameter ${defaultSoundField[field]}`;
    return fallback;
  };
  const script: CallScript = {
    liveMessage: recipient.liveMessage ?? options.defaultLiveMessage,
    liveMessageSoundId: withDefault("liveMessageSoundId"),
    machineMessage: recipient.machineMessage ?? options.defaultMachineMessage,
    machineMessageSoundId: withDefault("machineMessageSoundId"),
    transferMessage: recipient.transferMessage,
    transferMessageSoundId: recipient.transferMessageSoundId,
    transferDigit: recipient.transferDigit,
    transferNumber: recipient.transferNumber === undefined ? undefined : parsePhoneNumber(recipient.transferNumber, `${at}.transferNumber`),
    voice: recipient.voice ?? options.defaultVoice,
  };
  if (script.liveMessage === undefined && script.liveMessageSoundId === undefined) {
    throw new BadRequest(`${at}.liveMessage: a call needs something to say: liveMessage or liveMessageSoundId (or the query's defaultLiveMessage or defaultLiveMessageSoundId)`);
  }
  if ((script.transferMessage !== undefined || script.transferMessageSoundId !== undefined || script.transferDigit !== undefined) && script.transferNumber === undefined) {
    throw new BadRequest(`${at}.transferNumber: is required with a transfer message or digit`);
  }
  return { to, fromNumber: recipient.fromNumber, script: withoutUndefined(script), attributes: recipient.attributes, soundSources };
}

function checkSound(media: MediaRow | undefined, id: number, field: string): void {
  if (!media) throw mediaNotFound(field, id);
  const format = mediaFormats[media.format as MediaFormat];
  if (!format.audio) throw new BadRequest(`${field}: media ${id} is ${format.mediaType}, not a sound (mp3, wav or m4a)`);
}

/** The webhook's view of a script: sounds as links the platform can fetch without credentials. */
function soundsOf(script: CallScript, sounds: Map<number, MediaRow>, publicBase: string): Record<string, unknown> {
  const sound = (id: number | undefined) => {
    const media = id === undefined ? undefined : sounds.get(id);
    if (!media) return undefined;
    return {
      id: media.id,
      mediaType: mediaFormats[media.format as MediaFormat].mediaType,
      url: mediaUrl(media, publicBase),
      lengthInSeconds: media.duration_ms === null ? undefined : Math.round(media.duration_ms / 1000),
    };
  };
  return {
    liveMessage: script.liveMessage,
    liveMessageSound: sound(script.liveMessageSoundId),
    machineMessage: script.machineMessage,
    machineMessageSound: sound(script.machineMessageSoundId),
    transferMessage: script.transferMessage,
    transferMessageSound: sound(script.transferMessageSoundId),
    transferDigit: script.transferDigit,
    transferNumber: script.transferNumber,
    voice: script.voice,
  };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
