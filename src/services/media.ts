import { randomBytes, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { sql, type Kysely } from "kysely";
import type { Converter } from "../audio/audio-converter.js";
import { probeAudioDurationSeconds } from "../audio/probe.js";
import type { BlobSource, BlobStore, StoredBlob } from "../blobs/blob-store.js";
import { readAll, sniffUpload } from "../blobs/stream-head.js";
import type { Dialect } from "../db/database.js";
import type { MediaRow, Tables } from "../db/tables.js";
import { lockForDeletion } from "../db/write-locks.js";
import { BadRequest, NotFound } from "../errors.js";
import { secondsSince, type Metrics } from "../metrics.js";
import type { BinaryFile } from "../http/binary-response.js";
import {
  acceptedFormats,
  canConvert,
  formatOfExtension,
  formatOfSniffed,
  mediaFormats,
  type MediaFormat,
} from "./media-formats.js";
import { assertUploadInTime, deleteReleasedBlobs } from "./blob-sweeper.js";
import { findPage, findPageOfIds, type Page, type PageRequest } from "./paging.js";

export interface Media {
  id: number;
  accountId: number;
  name: string;
  created: number;
  lengthInBytes: number;
  mediaType: string;
  publicUrl: string;
}

/** An uploaded file that is stored but not yet visible: no row points at it. */
export interface StoredUpload {
  blob: StoredBlob;
  /** When its put began: the row must follow in time (assertUploadInTime). */
  startedAt: number;
  format: MediaFormat;
  durationMs?: number;
  filename?: string;
}

type RenditionFile = { blobKey: string; size: number; sha256: string };

export const maxMediaNameLength = 255;
/**
 * Conversions are bounded so one request cannot hold the converter or memory for long: 10
 * minutes of 48 kHz stereo PCM is 110 MiB.
 */
const maxConvertedDurationMs = 10 * 60_000;
const maxRenditionBytes = 128 * 1024 * 1024;

export class MediaService {
  /** Conversions under way, so concurrent first requests for a rendition convert once. */
  private readonly conversions = new Map<string, Promise<RenditionFile>>();

  constructor(
    private readonly db: Kysely<Tables>,
    /** Downloads stream straight from here, through the shared renderer. */
    readonly blobs: BlobStore,
    private readonly converter: Converter,
    private readonly options: { maxBytes: number; dialect: Dialect; now?: () => number; metrics?: Metrics },
  ) {}

  /**
   * Streams an upload into the blob store. The type is sniffed from the first bytes before
   * anything is written, so empty and unsupported files leave nothing behind; an upload that
   * fails later (too large, client gone) is removed by the store itself. Each upload gets its
   * own blob, so `discard` can always remove exactly what it wrote.
   */
  async store(file: BlobSource, filename?: string): Promise<StoredUpload> {
    const receiving = performance.now();
    const { type, body, abandon } = await sniffUpload(file, "uploaded file");
    const format = formatOfSniffed(type?.ext);
    if (!format) {
      await abandon();
      throw new BadRequest(`unsupported media format: accepted formats are ${acceptedFormats}`);
    }

    const startedAt = this.now();
    const blob = await this.blobs.putAt(`media/${randomUUID()}`, body, { maxBytes: this.options.maxBytes });
    try {
      const durationMs = await this.probe(blob.key, format);
      if (mediaFormats[format].audio && durationMs === undefined) {
        throw new BadRequest(`the uploaded file is not a playable ${format} file`);
      }
      this.options.metrics?.upload("media", blob.size, secondsSince(receiving));
      return { blob, startedAt, format, durationMs, filename };
    } catch (error) {
      await this.discard(blob);
      throw error;
    }
  }

  /** Makes a stored upload visible, or refuses it (and removes it) if this account has the same bytes. */
  async create(accountId: number, upload: StoredUpload, name: string | undefined): Promise<{ id: number }> {
    const created = this.now();
    const row = {
      account_id: accountId,
      name: name || defaultName(upload),
      created,
      format: upload.format,
      length_in_bytes: upload.blob.size,
      sha256: upload.blob.sha256,
      blob_key: upload.blob.key,
      public_key: randomBytes(16).toString("base64url"),
      duration_ms: upload.durationMs ?? null,
    };
    let inserted: { id: number } | undefined;
    try {
      // The rest of the request (fields after the file) is the client's to delay.
      assertUploadInTime(upload.startedAt, created);
      inserted = await this.db
        .insertInto("media")
        .values(row)
        .onConflict((c) => c.columns(["account_id", "sha256"]).doNothing())
        .returning("id")
        .executeTakeFirst();
    } catch (error) {
      await this.discard(upload.blob);
      throw error;
    }
    if (inserted) return inserted;

    await this.discard(upload.blob);
    const existing = await this.db
      .selectFrom("media")
      .select("id")
      .where("account_id", "=", accountId)
      .where("sha256", "=", upload.blob.sha256)
      .executeTakeFirstOrThrow();
    // CallFire's SDK tests parse the id from after "mediaId: " to the end of the message.
    throw new BadRequest(`this file was already uploaded, mediaId: ${existing.id}`);
  }

  /** Removes a stored upload that will not become visible. */
  async discard(upload: StoredBlob): Promise<void> {
    await this.blobs.delete(upload.key);
  }

  async get(accountId: number, id: number, publicBase: string): Promise<Media> {
    return toMedia(await this.row(accountId, id), publicBase);
  }

  async find(accountId: number, filter: string | undefined, page: PageRequest, publicBase: string): Promise<Page<Media>> {
    let query = this.db.selectFrom("media").where("account_id", "=", accountId);
    if (filter) {
      const pattern = `%${filter.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where(sql<boolean>`lower(name) like ${pattern} escape '\\'`);
    }
    return findPageOfIds(this.db, "media", query, page, (row) => toMedia(row, publicBase));
  }

  /** The operator's list of media of every account (or one), newest first. */
  async adminList(filter: { accountId?: number }, page: PageRequest, publicBase: string): Promise<Page<Media>> {
    let query = this.db.selectFrom("media");
    if (filter.accountId !== undefined) query = query.where("account_id", "=", filter.accountId);
    return findPage(this.db, query, page, (q) => q.selectAll().orderBy("id", "desc"), (row) => toMedia(row, publicBase));
  }

  async adminGet(id: number, publicBase: string): Promise<Media> {
    const row = await this.db.selectFrom("media").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new NotFound(`media ${id} not found`);
    return toMedia(row, publicBase);
  }

  /**
   * Deletes a media file, its renditions and its place in the texts that carried it, and then
   * their blobs: its URLs, the public one too, answer 404 from now on. A conversion of it under
   * way cannot store its rendition (the row is gone) and removes what it wrote.
   */
  async delete(id: number): Promise<void> {
    const blobKeys = await this.db.transaction().execute(async (trx) => {
      await lockForDeletion(trx, this.options.dialect, "media", "id", id);
      const renditions = await trx.selectFrom("media_rendition").select("blob_key").where("media_id", "=", id).execute();
      const deleted = await trx.deleteFrom("media").where("id", "=", id).returning("blob_key").executeTakeFirst();
      if (!deleted) throw new NotFound(`media ${id} not found`);
      return [deleted.blob_key, ...renditions.map((row) => row.blob_key)];
    });
    await deleteReleasedBlobs(this.db, this.blobs, blobKeys);
  }

  /** The file for `/media/{id}.{extension}`: the stored bytes, or a rendition in another audio format. */
  async file(accountId: number, id: number, extension: string): Promise<BinaryFile> {
    return this.fileOf(await this.row(accountId, id), extension, "private");
  }

  /** The file for `/media/public/{key}.{extension}`: no account, the key is the secret. */
  async fileByPublicKey(key: string, extension: string): Promise<BinaryFile> {
    const row = /^[A-Za-z0-9_-]{22}$/.test(key)
      ? await this.db.selectFrom("media").selectAll().where("public_key", "=", key).executeTakeFirst()
      : undefined;
    if (!row) throw new NotFound("no media has this public key");
    return this.fileOf(row, extension, "public-immutable");
  }

  /** `/media/{id}/file`: the stored bytes, unchanged, as CallFire's application/binary. */
  async original(accountId: number, id: number): Promise<BinaryFile> {
    const row = await this.row(accountId, id);
    return {
      blobKey: row.blob_key,
      size: row.length_in_bytes,
      sha256: row.sha256,
      contentType: "application/binary",
      filename: row.name,
      cache: "private",
    };
  }

  private async fileOf(row: MediaRow, extension: string, cache: BinaryFile["cache"]): Promise<BinaryFile> {
    const wanted = formatOfExtension(extension);
    if (!wanted) throw new BadRequest(`unsupported extension "${extension}": use one of jpeg, jpg, png, bmp, gif, mp4, m4a, mp3, wav`);
    const stored = row.format as MediaFormat;
    const filename = `${row.name.replace(/\.[A-Za-z0-9]{1,5}$/, "")}.${extension.toLowerCase()}`;
    const contentType = mediaFormats[wanted].contentType;
    if (wanted === stored) {
      return { blobKey: row.blob_key, size: row.length_in_bytes, sha256: row.sha256, contentType, filename, cache };
    }
    if (!canConvert(stored, wanted)) {
      throw new NotFound(`file currently unavailable for mediaId: ${row.id}: it is stored as ${stored}, not ${wanted}`);
    }
    if (row.duration_ms === null || row.duration_ms > maxConvertedDurationMs) {
      throw new NotFound(`file currently unavailable for mediaId: ${row.id}: only ${stored} files of up to 10 minutes are converted to ${wanted}`);
    }
    const rendition = await this.rendition(row, wanted);
    return { ...rendition, contentType, filename, cache };
  }

  private async rendition(row: MediaRow, format: MediaFormat): Promise<RenditionFile> {
    const existing = await this.storedRendition(row.id, format);
    if (existing) return existing;

    const key = `${row.id}:${format}`;
    let conversion = this.conversions.get(key);
    if (!conversion) {
      conversion = this.convert(row, format).finally(() => this.conversions.delete(key));
      this.conversions.set(key, conversion);
    }
    return conversion;
  }

  private async convert(row: MediaRow, format: MediaFormat): Promise<RenditionFile> {
    const source = await readAll(await this.blobs.get(row.blob_key));
    let converted: Buffer;
    try {
      converted = format === "mp3" ? await this.converter.wavToMp3(source) : await this.converter.mp3ToWav(source);
    } catch (error) {
      // The upload was accepted; that this copy cannot be made is a missing file, as CallFire says it.
      if (error instanceof BadRequest) throw new NotFound(`file currently unavailable for mediaId: ${row.id}: ${error.message}`);
      throw error;
    }
    // A key of its own, never rewritten, so the blob sweeper cannot take it for an old orphan.
    const startedAt = this.now();
    const stored = await this.blobs.putAt(`renditions/${randomUUID()}.${format}`, Readable.from([converted]), { maxBytes: maxRenditionBytes });
    let inserted: { blob_key: string } | undefined;
    try {
      assertUploadInTime(startedAt, this.now());
      inserted = await this.db
        .insertInto("media_rendition")
        .values({ media_id: row.id, format, blob_key: stored.key, length_in_bytes: stored.size, sha256: stored.sha256 })
        .onConflict((c) => c.columns(["media_id", "format"]).doNothing())
        .returning("blob_key")
        .executeTakeFirst();
    } finally {
      // Another node's conversion of the same file won (or the insert failed): keep only its copy.
      if (!inserted) await this.blobs.delete(stored.key);
    }
    if (inserted) return { blobKey: stored.key, size: stored.size, sha256: stored.sha256 };
    const winner = await this.storedRendition(row.id, format);
    if (!winner) throw new Error(`the ${format} rendition of media ${row.id} vanished while it was being made`);
    return winner;
  }

  private async storedRendition(mediaId: number, format: MediaFormat): Promise<RenditionFile | undefined> {
    const found = await this.db
      .selectFrom("media_rendition")
      .select(["blob_key", "length_in_bytes", "sha256"])
      .where("media_id", "=", mediaId)
      .where("format", "=", format)
      .executeTakeFirst();
    return found && { blobKey: found.blob_key, size: found.length_in_bytes, sha256: found.sha256 };
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private async row(accountId: number, id: number): Promise<MediaRow> {
    const row = await this.db
      .selectFrom("media")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row) throw new NotFound(`media ${id} not found`);
    return row;
  }

  private async probe(key: string, format: MediaFormat): Promise<number | undefined> {
    if (!mediaFormats[format].audio && format !== "mp4") return undefined;
    const seconds = await probeAudioDurationSeconds(await this.blobs.get(key), mediaFormats[format].contentType);
    return seconds === undefined ? undefined : Math.round(seconds * 1000);
  }
}

export function toMedia(row: MediaRow, publicBase: string): Media {
  const format = mediaFormats[row.format as MediaFormat];
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    created: row.created,
    lengthInBytes: row.length_in_bytes,
    mediaType: format.mediaType,
    publicUrl: `${publicBase}/v2/media/public/${row.public_key}.${format.urlExtension}`,
  };
}

function defaultName(upload: StoredUpload): string {
  const name = (upload.filename ?? "").replace(/[\u0000-\u001f\u007f]/g, "").trim();
  return (name || `media.${upload.format}`).slice(0, maxMediaNameLength);
}
