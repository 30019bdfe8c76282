// The behaviour every BlobStore must share, run against each implementation by its own test file.
import { createHash } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BlobStore, ListedBlob } from "../../src/blobs/blob-store.js";
import { BadRequest, NotFound, PayloadTooLarge, RangeNotSatisfiable } from "../../src/errors.js";

export interface BlobStoreHarness {
  store: BlobStore;
  /** Everything the backend holds (files, objects, pending multipart uploads), to prove failures leave nothing. */
  contents(): Promise<string[]>;
  /** Leaves what a put cut short by a crash leaves in this backend's temp area. */
  leaveCrashedUpload(): Promise<void>;
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;

export function describeBlobStore(name: string, makeStore: () => Promise<BlobStoreHarness>): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let harness: BlobStoreHarness;
    let store: BlobStore;

    beforeEach(async () => {
      harness = await makeStore();
      store = harness.store;
    });

    afterEach(async () => {
      await harness.cleanup();
    });

    it("stores a stream under the SHA-256 of its bytes and reads back the same bytes", async () => {
      const body = Buffer.from("hello, switchboard\n");
      const stored = await store.put(chunked(body, 4));
      expect(stored).toEqual({ key: sha256(body), sha256: sha256(body), size: body.length });
      expect(await readAll(await store.get(stored.key))).toEqual(body);
      expect(await harness.contents()).toHaveLength(1);
    });

    it("stores an empty blob", async () => {
      const stored = await store.put(Readable.from([]));
      expect(stored).toEqual({
        key: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        size: 0,
      });
      expect(await readAll(await store.get(stored.key))).toHaveLength(0);
      expect(await store.stat(stored.key)).toEqual({ key: stored.key, size: 0 });
    });

    it("reads byte ranges with an inclusive end", async () => {
      const body = Buffer.from("0123456789abcdefghij");
      const { key } = await store.put(chunked(body, 3));
      const read = async (start: number, end: number) => (await readAll(await store.get(key, { start, end }))).toString();
      expect(await read(0, 0)).toBe("0");
      expect(await read(5, 9)).toBe("56789");
      expect(await read(19, 19)).toBe("j");
      expect(await read(0, 19)).toBe(body.toString());
      expect(await read(17, 1000)).toBe("hij");
    });

    it("refuses a range that starts past the end, reporting the size", async () => {
      const { key } = await store.put(Readable.from([Buffer.from("abc")]));
      const err = await store.get(key, { start: 3, end: 10 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RangeNotSatisfiable);
      expect((err as RangeNotSatisfiable).headers["Content-Range"]).toBe("bytes */3");
    });

    it("stats present and missing blobs", async () => {
      const { key } = await store.put(Readable.from([Buffer.from("12345")]));
      expect(await store.stat(key)).toEqual({ key, size: 5 });
      expect(await store.stat(sha256(Buffer.from("never stored")))).toBeUndefined();
    });

    it("answers NotFound for a missing blob, with or without a range", async () => {
      const missing = sha256(Buffer.from("never stored"));
      await expect(store.get(missing)).rejects.toBeInstanceOf(NotFound);
      await expect(store.get(missing, { start: 0, end: 0 })).rejects.toBeInstanceOf(NotFound);
    });

    it("deletes, and deleting a missing blob is not an error", async () => {
      const { key } = await store.put(Readable.from([Buffer.from("doomed")]));
      await store.delete(key);
      expect(await store.stat(key)).toBeUndefined();
      await expect(store.get(key)).rejects.toBeInstanceOf(NotFound);
      await store.delete(key);
      expect(await harness.contents()).toEqual([]);
    });

    it("stores the same bytes once, also when two puts race", async () => {
      const body = Buffer.from("same bytes");
      const first = await store.put(Readable.from([body]));
      const [second, third] = await Promise.all([store.put(chunked(body, 2)), store.put(chunked(body, 5))]);
      expect(second).toEqual(first);
      expect(third).toEqual(first);
      expect(await harness.contents()).toHaveLength(1);
      expect(await readAll(await store.get(first.key))).toEqual(body);
    });

    it("accepts exactly maxBytes and refuses one byte more, leaving nothing", async () => {
      const body = Buffer.from("0123456789");
      await expect(store.put(chunked(body, 3), { maxBytes: 10 })).resolves.toMatchObject({ size: 10 });
      await store.delete(sha256(body));
      await expect(store.put(chunked(Buffer.from("0123456789X"), 3), { maxBytes: 10 })).rejects.toBeInstanceOf(
        PayloadTooLarge,
      );
      expect(await harness.contents()).toEqual([]);
    });

    it("rejects with the source's error when it fails halfway, leaving nothing", async () => {
      const source = failing([Buffer.from("first "), Buffer.from("second ")], new Error("client went away"));
      await expect(store.put(source)).rejects.toThrow("client went away");
      expect(await harness.contents()).toEqual([]);
    });

    it("rejects when the source is destroyed without an error (aborted request), leaving nothing", async () => {
      await expect(store.put(failing([Buffer.from("partial")]))).rejects.toThrow();
      expect(await harness.contents()).toEqual([]);
    });

    it("streams a 12 MiB blob in and out (multipart on S3) with the right hash and ranges", async () => {
      const size = 12 * MiB;
      const stored = await store.put(pattern(size));
      expect(stored).toEqual({ key: patternSha256(size), sha256: patternSha256(size), size });
      expect(await store.stat(stored.key)).toEqual({ key: stored.key, size });
      expect(await hashStream(await store.get(stored.key))).toBe(stored.sha256);
      // Across the 5 MiB boundary between the first two multipart parts.
      const start = 5 * MiB - 100;
      const end = 5 * MiB + 99;
      expect(await readAll(await store.get(stored.key, { start, end }))).toEqual(patternBytes(start, end + 1));
      expect(await harness.contents()).toHaveLength(1);
    });

    it("leaves nothing when a multi-part-sized source fails or overflows", async () => {
      const err = new Error("client went away");
      await expect(store.put(failing([patternBytes(0, 7 * MiB)], err))).rejects.toBe(err);
      expect(await harness.contents()).toEqual([]);

      await expect(store.put(pattern(12 * MiB), { maxBytes: 6 * MiB })).rejects.toBeInstanceOf(PayloadTooLarge);
      expect(await harness.contents()).toEqual([]);
    });

    it("stores under an explicit key with putAt, replacing earlier content", async () => {
      const original = await store.put(Readable.from([Buffer.from("original wav")]));
      const key = `renditions/${original.sha256}.mp3`;
      const first = Buffer.from("first rendition");
      expect(await store.putAt(key, chunked(first, 4))).toEqual({ key, sha256: sha256(first), size: first.length });
      expect(await readAll(await store.get(key))).toEqual(first);

      const second = Buffer.from("second, longer rendition");
      await store.putAt(key, Readable.from([second]));
      expect(await store.stat(key)).toEqual({ key, size: second.length });
      expect(await readAll(await store.get(key, { start: 0, end: 5 }))).toEqual(second.subarray(0, 6));
      expect(await store.stat(original.key)).toEqual({ key: original.key, size: 12 });
      expect(await harness.contents()).toHaveLength(2);

      await expect(store.putAt(key, failing([Buffer.from("x")], new Error("boom")))).rejects.toThrow("boom");
      expect(await readAll(await store.get(key))).toEqual(second);
    });

    it.each(["../x", "a/../../x", "..", "/etc/passwd", "", "a//b", "a/./b", "a/", "A", "a\\b", "tmp/x", "tmp"])(
      "rejects the key %j everywhere",
      async (key) => {
        await expect(store.putAt(key, Readable.from([Buffer.from("x")]))).rejects.toBeInstanceOf(BadRequest);
        await expect(store.get(key)).rejects.toBeInstanceOf(BadRequest);
        await expect(store.stat(key)).rejects.toBeInstanceOf(BadRequest);
        await expect(store.delete(key)).rejects.toBeInstanceOf(BadRequest);
        expect(await harness.contents()).toEqual([]);
      },
    );

    it("lists the blobs under a prefix with their sizes and when they were written, and nothing else", async () => {
      // S3 keeps whole seconds.
      const before = Date.now() - 1000;
      await store.putAt("media/one", Readable.from([Buffer.from("12345")]));
      await store.putAt("media/two", Readable.from([Buffer.from("12")]));
      await store.putAt("media/deeper/three", Readable.from([Buffer.from("123")]));
      await store.putAt("mediaeval/four", Readable.from([Buffer.from("1")]));
      await store.putAt("other/five", Readable.from([Buffer.from("1")]));
      await store.put(Readable.from([Buffer.from("content-addressed")]));
      const after = Date.now() + 1000;

      const listed = await listAll(store, "media/");
      expect(listed.map(({ key, size }) => ({ key, size }))).toEqual([
        { key: "media/deeper/three", size: 3 },
        { key: "media/one", size: 5 },
        { key: "media/two", size: 2 },
      ]);
      for (const { modified } of listed) {
        expect(modified).toBeGreaterThanOrEqual(before);
        expect(modified).toBeLessThanOrEqual(after);
      }
      expect(await listAll(store, "media/deeper/")).toMatchObject([{ key: "media/deeper/three", size: 3 }]);
      expect(await listAll(store, "missing/")).toEqual([]);
      for (const prefix of ["media", "tmp/", "../", "/media/", ""]) await expect(listAll(store, prefix)).rejects.toBeInstanceOf(BadRequest);
    });

    it("lists nothing of a put in progress", async () => {
      const source = new PassThrough();
      source.write(Buffer.from("the first bytes"));
      const put = store.putAt("media/in-progress", source);
      expect(await listAll(store, "media/")).toEqual([]);
      source.end();
      await put;
      expect(await listAll(store, "media/")).toMatchObject([{ key: "media/in-progress" }]);
    });

    it("abandons every put in progress on request, leaving nothing, and keeps what was stored", async () => {
      const { key } = await store.put(Readable.from([Buffer.from("stored before")]));
      const sources = [new PassThrough(), new PassThrough()];
      sources[0]!.write(Buffer.from("half a file"));
      sources[1]!.write(patternBytes(0, 6 * MiB)); // a multipart upload on S3
      const outcomes = [store.putAt("media/abandoned", sources[0]!), store.put(sources[1]!)].map((put) =>
        put.then(() => "stored", (error: Error) => error.message),
      );
      await store.abandonWrites();
      expect(await Promise.all(outcomes)).toEqual(["the server is stopping", "the server is stopping"]);
      expect(await harness.contents()).toEqual([expect.stringContaining(key)]);
    });

    it("removes what a crashed put left behind once it is stale, and nothing a live put uses", async () => {
      const { key } = await store.put(Readable.from([Buffer.from("stored")]));
      await harness.leaveCrashedUpload();
      const live = new PassThrough();
      live.write(Buffer.from("a live upload"));
      const put = store.putAt("media/live", live);

      expect(await store.removeStaleUploads()).toBe(0);
      live.end(Buffer.from(", finished"));
      expect(await put).toMatchObject({ key: "media/live", size: 23 });
      expect(await harness.contents()).toHaveLength(3);

      expect(await store.removeStaleUploads(Date.now() + 2 * 60 * 60_000)).toBe(1);
      expect((await harness.contents()).sort()).toEqual([expect.stringContaining(key), expect.stringContaining("media/")].sort());
    });

    it("pings", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}

async function listAll(store: BlobStore, prefix: string): Promise<ListedBlob[]> {
  const listed: ListedBlob[] = [];
  for await (const blob of store.list(prefix)) listed.push(blob);
  return listed.sort((a, b) => a.key.localeCompare(b.key));
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function chunked(data: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) chunks.push(data.subarray(i, i + size));
  return Readable.from(chunks);
}

/** Pushes `chunks`, then dies: with `error`, or without one like an aborted HTTP request. */
function failing(chunks: Buffer[], error?: Error): Readable {
  const queue = [...chunks];
  return new Readable({
    read() {
      const next = queue.shift();
      if (next) this.push(next);
      else this.destroy(error);
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function hashStream(stream: Readable): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Deterministic, non-repeating-per-part bytes, so a reordered or dropped part changes the hash. */
function patternBytes(start: number, end: number): Buffer {
  const out = Buffer.alloc(end - start);
  for (let i = start; i < end; i++) out[i - start] = (i * 31 + Math.floor(i / 8191)) & 0xff;
  return out;
}

function pattern(size: number, chunkSize = 256 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < size; at += chunkSize) yield patternBytes(at, Math.min(size, at + chunkSize));
    })(),
  );
}

function patternSha256(size: number): string {
  const hash = createHash("sha256");
  for (let at = 0; at < size; at += MiB) hash.update(patternBytes(at, Math.min(size, at + MiB)));
  return hash.digest("hex");
}
