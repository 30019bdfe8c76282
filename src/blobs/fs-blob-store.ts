import { randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, open, opendir, readdir, rename, rm, stat, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { NotFound, RangeNotSatisfiable } from "../errors.js";
import {
  assertValidKey,
  assertValidPrefix,
  assertValidRange,
  HashingMeter,
  PutsInProgress,
  isValidKey,
  type BlobFile,
  type BlobSource,
  type BlobStat,
  type BlobStore,
  type ByteRange,
  type ListedBlob,
  type PutOptions,
  type StoredBlob,
} from "./blob-store.js";

/** A put whose source sends nothing for this long fails (and removes its temp file). */
const uploadStallMs = 60_000;

/**
 * A temp file not written to for this long belongs to no live put, in any process: each writes at
 * least every `uploadStallMs` or fails and removes its file. The margin covers the fsync and rename
 * after the last write on a busy disk, and clocks of hosts that share the directory.
 */
export const staleUploadMs = 5 * 60_000;

/**
 * Blobs as files under `root`, fanned out by the first two characters of the key's last segment
 * (`<root>/ab/abcd…`, `<root>/renditions/ab/abcd….mp3`) so no directory grows huge. Writes go to
 * `<root>/tmp/` first and are renamed into place, so a reader never sees a partial file.
 */
export class FsBlobStore implements BlobStore {
  private readonly tmpDir: string;
  private readonly puts = new PutsInProgress();

  constructor(readonly root: string) {
    this.tmpDir = join(root, "tmp");
  }

  put(body: BlobSource, options?: PutOptions): Promise<StoredBlob> {
    return this.write(undefined, body, options);
  }

  async putAt(key: string, body: BlobSource, options?: PutOptions): Promise<StoredBlob> {
    assertValidKey(key);
    return this.write(key, body, options);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    if (range) assertValidRange(range);
    const { handle, size } = await this.openFile(key);
    try {
      if (range && range.start >= size) throw new RangeNotSatisfiable(size);
      return handle.createReadStream(range ? { start: range.start, end: Math.min(range.end, size - 1) } : {});
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async open(key: string): Promise<BlobFile> {
    const { handle, size } = await this.openFile(key);
    return {
      size,
      read: async (buffer, length, position) => (await handle.read(buffer, 0, length, position)).bytesRead,
      close: () => handle.close(),
    };
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    assertValidKey(key);
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { key, size: info.size } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await unlink(this.pathOf(key)).catch((err: NodeJS.ErrnoException) => {
      if (!isMissing(err)) throw err;
    });
  }

  async *list(prefix: string): AsyncIterable<ListedBlob> {
    assertValidPrefix(prefix);
    yield* this.walk(join(this.root, prefix), prefix.slice(0, -1).split("/"));
  }

  abandonWrites(): Promise<void> {
    return this.puts.abandon();
  }

  /** Temp files in `tmp/` not written to for `staleUploadMs`: every live put writes more often. */
  async removeStaleUploads(now = Date.now()): Promise<number> {
    const names = await readdir(this.tmpDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw err;
    });
    let removed = 0;
    for (const name of names) {
      const path = join(this.tmpDir, name);
      const info = await stat(path).catch(() => undefined); // finished meanwhile
      if (info?.isFile() && now - info.mtimeMs > staleUploadMs) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  async ping(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    await access(this.tmpDir, constants.W_OK);
  }

  private write(key: string | undefined, body: BlobSource, options?: PutOptions): Promise<StoredBlob> {
    return this.puts.run((signal) => this.writeFile(key, body, options, signal));
  }

  private async writeFile(key: string | undefined, body: BlobSource, options: PutOptions | undefined, signal: AbortSignal): Promise<StoredBlob> {
    await mkdir(this.tmpDir, { recursive: true });
    const tmpPath = join(this.tmpDir, randomUUID());
    // Opened here rather than by the stream so the file surely exists before a failure removes it.
    const handle = await open(tmpPath, "wx");
    const meter = new HashingMeter({ ...options, stallMs: uploadStallMs });
    try {
      try {
        // flush: fsync before close, or a crash after the rename could leave a short file under a valid key.
        await pipeline(body, meter, handle.createWriteStream({ flush: true }), { signal });
      } finally {
        await handle.close(); // already closed by the stream unless it failed to
      }
      const finalKey = key ?? meter.sha256;
      const finalPath = this.pathOf(finalKey);
      const created = await mkdir(dirname(finalPath), { recursive: true });
      await rename(tmpPath, finalPath);
      // Make the rename durable, and the entries of any directories mkdir just created.
      const top = created === undefined ? dirname(finalPath) : dirname(created);
      for (let dir = dirname(finalPath); ; dir = dirname(dir)) {
        await fsyncDir(dir);
        if (dir === top) break;
      }
      return { key: finalKey, size: meter.byteCount, sha256: meter.sha256 };
    } catch (err) {
      await rm(tmpPath, { force: true });
      throw signal.aborted ? signal.reason : err;
    }
  }

  /** Files under `dir` laid out as `<segments…>/<first two characters>/<name>`; anything else is not a blob. */
  private async *walk(dir: string, segments: string[]): AsyncIterable<ListedBlob> {
    const entries = await opendir(dir).catch((err: NodeJS.ErrnoException) => {
      if (isMissing(err)) return undefined;
      throw err;
    });
    if (!entries) return;
    for await (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        yield* this.walk(path, [...segments, entry.name]);
        continue;
      }
      const key = [...segments.slice(0, -1), entry.name].join("/");
      if (!entry.isFile() || segments.at(-1) !== entry.name.slice(0, 2) || !isValidKey(key)) continue;
      const info = await stat(path).catch(() => undefined); // deleted meanwhile
      if (info) yield { key, size: info.size, modified: info.mtimeMs };
    }
  }

  /** Opens first and sizes the open file, so a concurrent delete cannot slip between check and read. */
  private async openFile(key: string): Promise<{ handle: FileHandle; size: number }> {
    assertValidKey(key);
    const handle = await open(this.pathOf(key), "r").catch((err: NodeJS.ErrnoException) => {
      throw isMissing(err) ? new NotFound(`blob ${key} not found`) : err;
    });
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new NotFound(`blob ${key} not found`);
      return { handle, size: info.size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  private pathOf(key: string): string {
    const { dir, base } = posix.parse(key);
    return join(this.root, dir, base.slice(0, 2), base);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}
