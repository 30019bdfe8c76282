import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { Insertable, Kysely } from "kysely";
import type { Converter } from "../audio/audio-converter.js";
import { probeAudioDurationSeconds } from "../audio/probe.js";
import type { BlobSource, BlobStore, StoredBlob } from "../blobs/blob-store.js";
import { readAll, sniffUpload } from "../blobs/stream-head.js";
import type { CallRecordingRow, CallRecordingState, CallRecordingTable, Tables } from "../db/tables.js";
import { BadRequest, Conflict, NotFound, PayloadTooLarge } from "../errors.js";
import { secondsSince, type Metrics } from "../metrics.js";
import type { BinaryFile } from "../http/binary-response.js";
import { assertUploadInTime, deleteReleasedBlobs } from "./blob-sweeper.js";
import { findPage, type Page, type PageRequest } from "./paging.js";

export interface CallRecording {
  id: number;
  callId: number;
  campaignId?: number;
  name: string;
  created: number;
  lengthInBytes?: number;
  lengthInSeconds?: number;
  /** SHA-256 hex of the MP3. */
  hash?: string;
  mp3Url: string;
  state: CallRecordingState;
}

/** A recording as the operator sees it: with the account it belongs to. */
export type AdminCallRecording = CallRecording & { accountId: number };

type RecordingRow = CallRecordingRow & { campaign_id: number | null };

/**
 * A recording's MP3, stored and not yet part of any recording. `startedAt`: when its put began;
 * the row must follow in time (assertUploadInTime). `sourceSha256`: the digest of the file as
 * uploaded (a WAV's, before it became this MP3).
 */
export type StoredAudio = StoredBlob & { durationMs: number; startedAt: number; sourceSha256: string };

function audioColumns(audio: StoredAudio) {
  return { blob_key: audio.key, length_in_bytes: audio.size, sha256: audio.sha256, duration_ms: audio.durationMs, source_sha256: audio.sourceSha256 };
}

export class CallRecordingService {
  constructor(
    private readonly db: Kysely<Tables>,
    /** Downloads stream straight from here, through the shared renderer. */
    readonly blobs: BlobStore,
    private readonly converter: Converter,
    private readonly options: { maxBytes: number; now?: () => number; metrics?: Metrics },
  ) {}

  async list(accountId: number, callId: number, publicBase: string): Promise<CallRecording[]> {
    const rows = await this.rows().where("r.account_id", "=", accountId).where("r.call_id", "=", callId).orderBy("r.id").execute();
    // Recordings prove the call is there; only an empty list needs to tell no call from none.
    if (rows.length === 0) {
      const call = await this.db.selectFrom("call").select("id").where("account_id", "=", accountId).where("id", "=", callId).executeTakeFirst();
      if (!call) throw callNotFound(callId);
    }
    return rows.map((row) => toRecording(row, publicBase));
  }

  /** The recordings of several of an account's calls, by call, in creation order: one query for a page of calls. */
  async forCalls(accountId: number, calls: Array<{ id: number; campaign_id: number | null }>, publicBase: string): Promise<Map<number, CallRecording[]>> {
    const byCall = new Map<number, CallRecording[]>();
    if (calls.length === 0) return byCall;
    const campaigns = new Map(calls.map((call) => [call.id, call.campaign_id]));
    const rows = await this.db
      .selectFrom("call_recording")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("call_id", "in", [...campaigns.keys()])
      .orderBy("id")
      .execute();
    for (const row of rows) {
      const list = byCall.get(row.call_id) ?? [];
      list.push(toRecording({ ...row, campaign_id: campaigns.get(row.call_id) ?? null }, publicBase));
      byCall.set(row.call_id, list);
    }
    return byCall;
  }

  async get(accountId: number, id: number, publicBase: string): Promise<CallRecording> {
    return toRecording(await this.row(accountId, id), publicBase);
  }

  async getByName(accountId: number, callId: number, name: string, publicBase: string): Promise<CallRecording> {
    return toRecording(await this.rowByName(accountId, callId, name), publicBase);
  }

  async mp3(accountId: number, id: number): Promise<BinaryFile> {
    return mp3Of(await this.row(accountId, id));
  }

  async mp3ByName(accountId: number, callId: number, name: string): Promise<BinaryFile> {
    return mp3Of(await this.rowByName(accountId, callId, name));
  }

  /** The operator's "recording in progress": a name reserved on the call, audio to follow. */
  async create(callId: number, name: string, publicBase: string): Promise<CallRecording> {
    const id = await this.insert(callId, name, { state: "RECORDING" });
    return toRecording(await this.operatorRow(id), publicBase);
  }

  /** A finished recording of a call, with its audio; CLI ingest streams the file from disk. */
  async attach(callId: number, name: string, file: BlobSource, publicBase: string): Promise<{ recording: CallRecording; created: boolean }> {
    return this.attachAudio(callId, name, await this.storeAudio(file), publicBase);
  }

  /**
   * A finished recording of a call, with audio already stored by `storeAudio`; removed if the
   * recording cannot be created. The same file under the same name again (a retried upload or
   * ingest) answers the recording made the first time (`created` false); another file under a
   * name the call already has is a 409.
   */
  async attachAudio(callId: number, name: string, audio: StoredAudio, publicBase: string): Promise<{ recording: CallRecording; created: boolean }> {
    let id: number;
    try {
      assertUploadInTime(audio.startedAt, this.now());
      id = await this.insert(callId, name, { state: "READY", ...audioColumns(audio) });
    } catch (error) {
      await this.discardAudio(audio);
      if (error instanceof Conflict) {
        const existing = await this.db.selectFrom("call_recording").select(["id", "state", "source_sha256"]).where("call_id", "=", callId).where("name", "=", name).executeTakeFirst();
        if (existing?.state === "READY" && existing.source_sha256 === audio.sourceSha256) {
          return { recording: toRecording(await this.operatorRow(existing.id), publicBase), created: false };
        }
      }
      throw error;
    }
    return { recording: toRecording(await this.operatorRow(id), publicBase), created: true };
  }

  /** Gives a recording that is not READY its audio, stored by `storeAudio` (removed if it cannot). */
  async complete(id: number, audio: StoredAudio, publicBase: string): Promise<CallRecording> {
    try {
      assertUploadInTime(audio.startedAt, this.now());
      // Only a recording that is still not READY takes this audio: of two concurrent uploads one wins.
      const updated = await this.db
        .updateTable("call_recording")
        .set({ state: "READY", ...audioColumns(audio) })
        .where("id", "=", id)
        .where("state", "!=", "READY")
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) {
        await this.operatorRow(id);
        throw alreadyReady(id);
      }
    } catch (error) {
      // Audio no recording took is an orphan, whether the update lost the race or failed.
      await this.discardAudio(audio);
      throw error;
    }
    return toRecording(await this.operatorRow(id), publicBase);
  }

  /**
   * Sniffs an upload and stores it as MP3 under a key of its own (so a failed recording can
   * remove exactly what it wrote), not yet part of any recording. MP3 streams straight to the
   * store; WAV is read into memory, bounded by the limit, because the encoder needs the whole file.
   */
  async storeAudio(file: BlobSource): Promise<StoredAudio> {
    const { maxBytes } = this.options;
    const receiving = performance.now();
    const { type, body, abandon } = await sniffUpload(file, "recording file");
    if (type?.ext !== "mp3" && type?.ext !== "wav") {
      await abandon();
      throw new BadRequest(`a call recording must be MP3 or WAV audio${type ? `, not ${type.ext}` : ""}`);
    }

    const key = `recordings/${randomUUID()}.mp3`;
    const startedAt = this.now();
    let stored: StoredBlob;
    let sourceSha256: string;
    let seconds: number | undefined;
    try {
      if (type.ext === "wav") {
        const wav = await readAll(body, maxBytes);
        sourceSha256 = createHash("sha256").update(wav).digest("hex");
        const mp3 = await this.converter.wavToMp3(wav);
        stored = await this.blobs.putAt(key, Readable.from([mp3]));
        seconds = await probeAudioDurationSeconds(mp3, "audio/mpeg");
      } else {
        stored = await this.blobs.putAt(key, body, { maxBytes });
        sourceSha256 = stored.sha256;
        seconds = await probeAudioDurationSeconds(await this.blobs.get(key), "audio/mpeg");
      }
    } catch (error) {
      await this.blobs.delete(key);
      if (error instanceof PayloadTooLarge) throw tooLarge(maxBytes);
      throw error;
    }
    if (seconds === undefined) {
      await this.blobs.delete(key);
      throw new BadRequest("the recording is not a playable MP3 file");
    }
    this.options.metrics?.upload("recording", stored.size, secondsSince(receiving));
    return { ...stored, durationMs: Math.round(seconds * 1000), startedAt, sourceSha256 };
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Removes audio stored by `storeAudio` that no recording will take. */
  async discardAudio(audio: StoredAudio): Promise<void> {
    await this.blobs.delete(audio.key);
  }

  /** A recording row for a call of any account; the unique (call_id, name) decides between concurrent creates. */
  private async insert(callId: number, name: string, columns: Pick<Insertable<CallRecordingTable>, "state" | "blob_key" | "length_in_bytes" | "sha256" | "duration_ms">): Promise<number> {
    checkName(name);
    const call = await this.db.selectFrom("call").select(["id", "account_id"]).where("id", "=", callId).executeTakeFirst();
    if (!call) throw callNotFound(callId);
    const inserted = await this.db
      .insertInto("call_recording")
      .values({ account_id: call.account_id, call_id: callId, name, created: this.now(), ...columns })
      .onConflict((c) => c.columns(["call_id", "name"]).doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted) throw new Conflict(`call ${callId} already has a recording named "${name}"`);
    return inserted.id;
  }

  /** The operator's list of recordings of every account, newest first, by account and call if given. */
  async adminList(filter: { accountId?: number; callId?: number }, page: PageRequest, publicBase: string): Promise<Page<AdminCallRecording>> {
    let query = this.db.selectFrom("call_recording").innerJoin("call", "call.id", "call_recording.call_id");
    if (filter.accountId !== undefined) query = query.where("call_recording.account_id", "=", filter.accountId);
    if (filter.callId !== undefined) query = query.where("call_recording.call_id", "=", filter.callId);
    return findPage(
      this.db,
      query,
      page,
      (q) => q.selectAll("call_recording").select("call.campaign_id").orderBy("call_recording.id", "desc"),
      (row) => toAdminRecording(row, publicBase),
    );
  }

  async adminGet(id: number, publicBase: string): Promise<AdminCallRecording> {
    return toAdminRecording(await this.operatorRow(id), publicBase);
  }

  /**
   * Deletes a recording and then its MP3. The call, and the usage it was charged, stay. An upload
   * of its audio under way finds the row gone and removes what it stored.
   */
  async delete(id: number): Promise<void> {
    const row = await this.db.deleteFrom("call_recording").where("id", "=", id).returning("blob_key").executeTakeFirst();
    if (!row) throw new NotFound(`call recording ${id} not found`);
    if (row.blob_key !== null) await deleteReleasedBlobs(this.db, this.blobs, [row.blob_key]);
  }

  /** The operator's "this recording failed". A READY recording has its audio and stays READY. */
  async markError(id: number, publicBase: string): Promise<CallRecording> {
    const updated = await this.db
      .updateTable("call_recording")
      .set({ state: "ERROR" })
      .where("id", "=", id)
      .where("state", "!=", "READY")
      .executeTakeFirst();
    const row = await this.operatorRow(id);
    if (Number(updated.numUpdatedRows) === 0) throw new Conflict(`call recording ${id} is READY: it cannot be marked ERROR`);
    return toRecording(row, publicBase);
  }

  private rows() {
    return this.db.selectFrom("call_recording as r").innerJoin("call as c", "c.id", "r.call_id").selectAll("r").select("c.campaign_id");
  }

  private async row(accountId: number, id: number): Promise<RecordingRow> {
    const row = await this.rows().where("r.account_id", "=", accountId).where("r.id", "=", id).executeTakeFirst();
    if (!row) throw new NotFound(`call recording ${id} not found`);
    return row;
  }

  private async rowByName(accountId: number, callId: number, name: string): Promise<RecordingRow> {
    const row = await this.rows().where("r.account_id", "=", accountId).where("r.call_id", "=", callId).where("r.name", "=", name).executeTakeFirst();
    if (!row) throw new NotFound(`call ${callId} has no recording named "${name}"`);
    return row;
  }

  /** The operator works across accounts. */
  private async operatorRow(id: number): Promise<RecordingRow> {
    const row = await this.rows().where("r.id", "=", id).executeTakeFirst();
    if (!row) throw new NotFound(`call recording ${id} not found`);
    return row;
  }
}

/**
 * Names are path segments of CallFire's by-name operations: no "/", no control characters, not
 * "." or ".." (clients resolve those away), and not ending in ".mp3", which routes to the
 * download of the name without it.
 */
function checkName(name: string): void {
  if (name.length < 1 || name.length > 255) throw new BadRequest("name: must be 1 to 255 characters");
  if (/[/\x00-\x1f\x7f]/.test(name) || name === "." || name === "..") {
    throw new BadRequest(`name: "${name}" cannot be a URL path segment (no "/", control characters, "." or "..")`);
  }
  if (name.endsWith(".mp3")) {
    throw new BadRequest(`name: must not end in ".mp3": GET /v2/calls/{id}/recordings/{name}.mp3 downloads the recording named {name}`);
  }
}

function toRecording(row: RecordingRow, publicBase: string): CallRecording {
  return {
    id: row.id,
    callId: row.call_id,
    campaignId: row.campaign_id ?? undefined,
    name: row.name,
    created: row.created,
    lengthInBytes: row.length_in_bytes ?? undefined,
    lengthInSeconds: row.duration_ms === null ? undefined : Math.round(row.duration_ms / 1000),
    hash: row.sha256 ?? undefined,
    mp3Url: `${publicBase}/v2/calls/recordings/${row.id}.mp3`,
    state: row.state,
  };
}

function toAdminRecording(row: RecordingRow, publicBase: string): AdminCallRecording {
  return { ...toRecording(row, publicBase), accountId: row.account_id };
}

function mp3Of(row: RecordingRow): BinaryFile {
  if (row.state !== "READY" || row.blob_key === null || row.length_in_bytes === null || row.sha256 === null) {
    throw new NotFound(`call recording ${row.id} is ${row.state}: its MP3 is available once it is READY`);
  }
  return { blobKey: row.blob_key, size: row.length_in_bytes, sha256: row.sha256, contentType: "audio/mpeg", filename: `${row.name}.mp3`, cache: "private" };
}

function tooLarge(maxBytes: number): PayloadTooLarge {
  return new PayloadTooLarge(`the recording is larger than the limit of ${maxBytes} bytes`);
}

function callNotFound(callId: number): NotFound {
  return new NotFound(`call ${callId} not found`);
}

function alreadyReady(id: number): Conflict {
  return new Conflict(`call recording ${id} is already READY`);
}
