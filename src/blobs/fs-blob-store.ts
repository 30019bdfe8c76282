import { randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { NotFound, RangeNotSatisfiable } from "../errors.js";
import {
  assertValidKey,
  assertValidRange,
  HashingMeter,
  type BlobFile,
  type BlobSource,
  type BlobStat,
  type BlobStore,
  type ByteRange,
  type PutOptions,
  type StoredBlob,
} from "./blob-store.js";

/**
 * Blobs as files under `root`, fanned out by the first two characters of the key's last segment
 * (`<root>/ab/abcd…`, `<root>/renditions/ab/abcd….mp3`) so no directory grows huge. Writes go to
 * `<root>/tmp/` first and are renamed into place, so a reader never sees a partial file.
 */
export class FsBlobStore implements BlobStore {
  private readonly tmpDir: string;

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

  /**
   * Removes what uploads cut short by a crash left in `tmp/`: files not written to for `olderThanMs`
   * (a live upload writes continually). Returns how many were removed.
   */
  async removeStaleUploads(olderThanMs: number, now = Date.now()): Promise<number> {
    const names = await readdir(this.tmpDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw err;
    });
    let removed = 0;
    for (const name of names) {
      const path = join(this.tmpDir, name);
      const info = await stat(path).catch(() => undefined); // finished meanwhile
      if (info?.isFile() && now - info.mtimeMs > olderThanMs) {
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

  private async write(key: string | undefined, body: BlobSource, options?: PutOptions): Promise<StoredBlob> {
    await mkdir(this.tmpDir, { recursive: true });
    const tmpPath = join(this.tmpDir, randomUUID());
    // Opened here rather than by the stream so the file surely exists before a failure removes it.
    const handle = await open(tmpPath, "wx");
    const meter = new HashingMeter(options);
    try {
      try {
        // flush: fsync before close, or a crash after the rename could leave a short file under a valid key.
        await pipeline(body, meter, handle.createWriteStream({ flush: true }));
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
      throw err;
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
