import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { BlobFile, BlobStore, ByteRange } from "../blobs/blob-store.js";
import { NotFound, RangeNotSatisfiable } from "../errors.js";

// Every binary endpoint (media, renditions, call recordings) answers through this one renderer:
// HEAD, single byte ranges, a strong ETag from the content hash with If-None-Match and If-Range,
// and a safe inline filename. It never looks at Accept: swagger-client 2.x sends image/jpeg to
// every media download, whatever the file is.

export interface BinaryFile {
  blobKey: string;
  size: number;
  sha256: string;
  contentType: string;
  filename: string;
  /** Public-key URLs never change content: they can be cached by anyone, forever. */
  cache: "private" | "public-immutable";
}

export async function sendBinary(request: FastifyRequest, reply: FastifyReply, blobs: BlobStore, file: BinaryFile): Promise<FastifyReply> {
  const etag = `"${file.sha256}"`;
  if (matchesEtag(request.headers["if-none-match"], etag)) return reply.code(304).headers(fileHeaders(file, etag)).send();

  // Everything that can fail happens before the file's headers are set, so an error answer never
  // carries them (a CDN must not keep a 416 or a 500 for a year as if it were the file).
  const ifRange = request.headers["if-range"];
  const range = ifRange === undefined || ifRange === etag ? parseRange(request.headers.range, file.size) : undefined;
  const start = range?.start ?? 0;
  const length = range ? range.end - range.start + 1 : file.size;
  const bodiless = request.method === "HEAD" || length === 0;
  const source = bodiless ? undefined : await openBlob(blobs, file.blobKey, range);

  reply.headers(fileHeaders(file, etag)).header("Content-Length", length);
  if (range) reply.code(206).header("Content-Range", `bytes ${range.start}-${range.end}/${file.size}`);
  // Fastify's HEAD handling rewrites Content-Length for an empty payload but leaves it alone for
  // a stream, which it drains: an empty stream keeps our length without reading the blob.
  if (source === undefined) return reply.send(Readable.from([]));
  if (source instanceof Readable) return reply.send(source);

  // The response is ours from here; Fastify still runs its onResponse hooks when it finishes.
  reply.hijack();
  try {
    const complete = await sendFile(reply.raw, reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders, source, start, length);
    if (!complete) reply.log.info({ blobKey: file.blobKey }, "the client left before the download finished");
  } catch (error) {
    reply.log.error({ err: error, blobKey: file.blobKey }, "download failed after its headers were sent; connection closed");
  }
  return reply;
}

/**
 * 512 KiB a read and a write. At 256 KiB a 5 MiB download on one connection ran at 0.79 of nginx's
 * sendfile; at 512 KiB 0.95, and 1 MiB added little more for twice the memory (bench/download.sh).
 */
const chunkBytes = 512 * 1024;
/** Full-size buffers of finished downloads, kept for the next ones: at most 32, 16 MiB. */
const spareBuffers: Buffer[] = [];
const maxSpareBuffers = 32;

/**
 * Answers with `status` and `headers`, then `length` bytes of `file` from `start`. Two buffers take
 * turns: the next chunk is read into one while the other is being written, a buffer is refilled
 * only after the socket has taken its bytes (the write callback), and both go back to a pool when
 * the download ends; a file smaller than one chunk gets one buffer of its own size instead. Only
 * the bytes just read are ever written, so a reused buffer cannot leak an earlier file. fs.createReadStream allocates a new Buffer for every 64 KiB instead; at a gigabyte
 * a second that external memory kept V8 running 10–16 full collections a second on a busy server
 * (bench/download.sh).
 *
 * A client can leave at any moment. Node calls no write callback once the socket is gone, so the
 * wait for one also ends when the response closes, and a buffer whose write never finished is
 * left to the collector rather than pooled. Resolves whether the whole body went out.
 */
async function sendFile(response: ServerResponse, status: number, headers: OutgoingHttpHeaders, file: BlobFile, start: number, length: number): Promise<boolean> {
  const pooled = length >= chunkBytes;
  const buffers = pooled
    ? Array.from({ length: length > chunkBytes ? 2 : 1 }, () => spareBuffers.pop() ?? Buffer.allocUnsafeSlow(chunkBytes))
    : [Buffer.allocUnsafe(length)];
  const closed = new Promise<"closed">((resolve) => response.once("close", () => resolve("closed")));
  const gone = () => response.destroyed || response.socket?.writable !== true;
  // Settles with the write's error (never rejects, so a failed write is no unhandled rejection).
  let writing: Promise<Error | null | undefined> = Promise.resolve(null);
  let idle = true; // no write of ours is in flight: the buffers may be reused
  /** Waits for the write in flight: false if it failed or the client left before it finished. */
  const written = async () => {
    const outcome = await Promise.race([writing, closed]);
    if (outcome === "closed") return false; // that write may never finish: its buffer stays out
    idle = true;
    return !outcome;
  };
  try {
    response.writeHead(status, headers);
    for (let sent = 0, turn = 0; sent < length; turn = (turn + 1) % buffers.length) {
      const buffer = buffers[turn]!;
      const read = await file.read(buffer, Math.min(chunkBytes, length - sent), start + sent);
      if (read === 0) throw new Error(`stored file is ${length - sent} bytes shorter than its record`);
      if (!(await written()) || gone()) return false;
      const chunk = read === buffer.length ? buffer : buffer.subarray(0, read);
      idle = false;
      writing = new Promise((resolve) => response.write(chunk, resolve));
      sent += read;
    }
    if (!(await written())) return false;
    response.end();
    return true;
  } catch (error) {
    response.destroy();
    throw error;
  } finally {
    await file.close();
    if (idle && pooled) spareBuffers.push(...buffers.slice(0, maxSpareBuffers - spareBuffers.length));
  }
}

function fileHeaders(file: BinaryFile, etag: string): Record<string, string> {
  return {
    "Content-Type": file.contentType,
    "Accept-Ranges": "bytes",
    ETag: etag,
    "Content-Disposition": contentDisposition(file.filename),
    "Cache-Control": file.cache === "public-immutable" ? "public, max-age=31536000, immutable" : "private, max-age=0, must-revalidate",
  };
}

/**
 * The blob, by position where the store can (see sendFile) and as a stream otherwise. A row
 * whose blob is gone is lost data, not a missing resource: a 500, and the key stays in the log.
 */
async function openBlob(blobs: BlobStore, key: string, range: ByteRange | undefined): Promise<Readable | BlobFile> {
  try {
    return blobs.open ? await blobs.open(key) : await blobs.get(key, range);
  } catch (error) {
    if (error instanceof NotFound) throw new Error(`stored file ${key} is missing`, { cause: error });
    throw error;
  }
}

/**
 * One `bytes=a-b`, `bytes=a-` or `bytes=-n`. Headers we do not understand (other units, several
 * ranges, a-b with b < a) are ignored and the whole file is sent, as RFC 9110 allows; a
 * well-formed range that starts past the end is 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  const match = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  const [, first, last] = match;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) throw new RangeNotSatisfiable(size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < start) return undefined;
  if (start >= size) throw new RangeNotSatisfiable(size);
  return { start, end };
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || tag === etag || tag === `W/${etag}`;
  });
}

/** An ASCII fallback plus the RFC 8187 form, so no name can break out of the header. */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `inline; filename="${ascii}"; filename*=UTF-8''${extendedValue(filename)}`;
}

/** RFC 8187 attr-char; encodeURIComponent also leaves ' ( ) * bare, which it does not allow. */
const attrChar = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;

/** The UTF-8 bytes of `value`, percent-encoded outside attr-char (a lone surrogate becomes U+FFFD). */
function extendedValue(value: string): string {
  let encoded = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const char = String.fromCharCode(byte);
    encoded += attrChar.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
}
