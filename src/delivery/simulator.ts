import type { Kysely } from "kysely";
import type { BlobStore } from "../blobs/blob-store.js";
import type { MediaRow, Tables } from "../db/tables.js";
import { Conflict } from "../errors.js";
import type { CallResult, TextResult } from "../services/actions.js";
import type { Delivery, NewDelivery } from "../services/call-outbox.js";
import type { CallScript } from "../services/call-sending.js";
import type { CallRecordingService } from "../services/call-recordings.js";
import type { CallService } from "../services/calls.js";
import type { TextService } from "../services/texts.js";
import type { CallTransport, DeliveryLog } from "./call-transport.js";

// The sandbox simulator: when no webhook is configured, Switchboard plays the operator's platform
// itself. It accepts every delivery (as a platform's 2xx), decides the outcome then, and reports
// it when it is due through the same service methods the operator's /admin/v1 reports use. The
// pending outcome is an outbox row written with the acceptance, so a restart loses none.

/** The outcome by the number called or texted: the README's table. */
export function simulatedCallResult(to: string): CallResult {
  switch (to.slice(-4)) {
    case "0001":
      return "BUSY";
    case "0002":
      return "NO_ANS";
    case "0003":
      return "AM";
    case "0004":
      return "CARRIER_ERROR";
    default:
      return "LA";
  }
}

export function simulatedTextResult(to: string): TextResult {
  return to.endsWith("0001") ? "CARRIER_ERROR" : "SENT";
}

/** Text-to-speech at 150 words a minute, at least a second. */
export function spokenSeconds(message: string): number {
  const words = message.split(/\s+/).filter((word) => word !== "").length;
  return Math.max(1, Math.ceil((words * 60) / 150));
}

export interface SimulatedCallOutcome {
  result: CallResult;
  durationSeconds: number;
  finishTime: number;
  /** The media played, recorded as the call's recording (MP3 and WAV sounds). */
  recordingMediaId?: number;
}

export interface SimulatedTextOutcome {
  result: TextResult;
  finishTime: number;
}

/** The recording's name on every simulated call that played a sound. */
export const simulatedRecordingName = "recording";

/** Accepts deliveries as the platform would; verification calls are logged with their code, as a developer needs. */
export class SimulatorTransport implements CallTransport {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly log: DeliveryLog,
    private readonly delayMs: number,
    private readonly now: () => number,
  ) {}

  async place(delivery: Delivery): Promise<NewDelivery | undefined> {
    const accepted = this.now();
    switch (delivery.type) {
      case "callerIdVerification":
        this.log.info({ callId: delivery.id, to: delivery.to, code: delivery.code }, `verification call to +${delivery.to}: "${delivery.message}"`);
        return undefined;
      case "call": {
        const outcome = await this.callOutcome(delivery.actionId!, delivery.to, accepted);
        return { type: "simulatedCallOutcome", accountId: delivery.accountId, actionId: delivery.actionId!, to: delivery.to, payload: { ...outcome }, dueAt: outcome.finishTime };
      }
      case "text": {
        const outcome: SimulatedTextOutcome = { result: simulatedTextResult(delivery.to), finishTime: accepted + this.delayMs };
        return { type: "simulatedTextOutcome", accountId: delivery.accountId, actionId: delivery.actionId!, to: delivery.to, payload: { ...outcome }, dueAt: outcome.finishTime };
      }
      default:
        throw new Error(`the simulator does not place ${delivery.type} deliveries`);
    }
  }

  /**
   * An answered call plays its sound (or speaks its message) and lasts that long; an answering
   * machine gets the machine message when there is one, else the live one. The call is reported
   * after the configured delay, or when what it played has ended, if that is later: a call never
   * ends before it could have started.
   */
  private async callOutcome(callId: number, to: string, accepted: number): Promise<SimulatedCallOutcome> {
    const result = simulatedCallResult(to);
    let durationSeconds = 0;
    let recordingMediaId: number | undefined;
    if (result === "LA" || result === "AM") {
      const row = await this.db.selectFrom("call").select(["script", "account_id"]).where("id", "=", callId).executeTakeFirstOrThrow();
      const script = JSON.parse(row.script ?? "{}") as CallScript;
      const machine = result === "AM" && (script.machineMessageSoundId !== undefined || script.machineMessage !== undefined);
      const soundId = machine ? script.machineMessageSoundId : script.liveMessageSoundId;
      const message = machine ? script.machineMessage : script.liveMessage;
      const sound = soundId === undefined ? undefined : await this.media(row.account_id, soundId);
      if (sound?.duration_ms != null) {
        durationSeconds = Math.max(1, Math.ceil(sound.duration_ms / 1000));
        if (sound.format === "mp3" || sound.format === "wav") recordingMediaId = sound.id;
      } else {
        durationSeconds = spokenSeconds(message ?? "");
      }
    }
    const finishTime = accepted + Math.max(this.delayMs, durationSeconds * 1000);
    return { result, durationSeconds, finishTime, recordingMediaId };
  }

  private media(accountId: number, id: number): Promise<MediaRow | undefined> {
    return this.db.selectFrom("media").selectAll().where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
  }
}

/** Reports the simulator's outcomes when they are due. */
export class SimulatedPlatform {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly blobs: BlobStore,
    private readonly calls: CallService,
    private readonly texts: TextService,
    private readonly recordings: CallRecordingService,
    private readonly publicBase: string,
  ) {}

  async finish(delivery: Delivery): Promise<void> {
    if (delivery.type === "simulatedTextOutcome") {
      const outcome = delivery.payload as unknown as SimulatedTextOutcome;
      await ignoringChangedOutcome(() => this.texts.reportOutcome(delivery.actionId!, outcome));
      return;
    }
    const { recordingMediaId, ...outcome } = delivery.payload as unknown as SimulatedCallOutcome;
    const callId = delivery.actionId!;
    await ignoringChangedOutcome(() => this.calls.reportOutcome(callId, outcome));
    if (recordingMediaId !== undefined) await this.record(callId, delivery.accountId, recordingMediaId);
  }

  /**
   * The sound played, through the recording service: a normal CallRecording (WAV converted to
   * MP3). A retry after a crash finds it there (the recording exists only once READY).
   */
  private async record(callId: number, accountId: number, mediaId: number): Promise<void> {
    const media = await this.db.selectFrom("media").select("blob_key").where("account_id", "=", accountId).where("id", "=", mediaId).executeTakeFirst();
    if (!media) return;
    const existing = await this.db.selectFrom("call_recording").select("id").where("call_id", "=", callId).where("name", "=", simulatedRecordingName).executeTakeFirst();
    if (existing) return;
    await ignoringChangedOutcome(async () => this.recordings.attach(callId, simulatedRecordingName, await this.blobs.get(media.blob_key), this.publicBase));
  }
}

/**
 * An outcome reported meanwhile by someone else (the operator, after a switch to a webhook)
 * stands, as does a recording another attempt stored first.
 */
async function ignoringChangedOutcome(report: () => Promise<unknown>): Promise<void> {
  try {
    await report();
  } catch (error) {
    if (!(error instanceof Conflict)) throw error;
  }
}
