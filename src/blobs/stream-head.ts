import { fileTypeFromBuffer, type FileTypeResult } from "file-type";
import { BadRequest, PayloadTooLarge } from "../errors.js";
import type { BlobSource } from "./blob-store.js";

/** file-type decides every format we accept from the first 4100 bytes. */
const sniffBytes = 4100;

/**
 * The first `bytes` of a stream (fewer if it ends first), to sniff a format before anything is
 * stored, and the whole stream again as a source. `abandon` releases the source when the rest
 * will not be read (a multipart parser waits for each file part to be consumed or destroyed).
 */
export async function readHead(
  source: BlobSource,
  bytes: number,
): Promise<{ head: Buffer; body: AsyncIterable<Uint8Array>; abandon: () => Promise<void> }> {
  const iterator = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < bytes) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    chunks.push(Buffer.from(next.value));
    size += next.value.length;
  }
  const head = Buffer.concat(chunks);
  const abandon = async () => {
    if (!ended) await iterator.return?.();
  };
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      yield head;
      if (ended) return;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
      ended = true;
    } finally {
      await abandon();
    }
  }
  return { head, body: body(), abandon };
}

/**
 * The type of an upload from its first bytes, before anything is stored, and the whole upload
 * again as `body`. An empty upload is a 400 naming `what` it is; call `abandon` when refusing
 * the type, so the rest is not waited for.
 */
export async function sniffUpload(
  source: BlobSource,
  what: string,
): Promise<{ type: FileTypeResult | undefined; body: AsyncIterable<Uint8Array>; abandon: () => Promise<void> }> {
  const { head, body, abandon } = await readHead(source, sniffBytes);
  if (head.length === 0) throw new BadRequest(`the ${what} is empty`);
  return { type: await fileTypeFromBuffer(head), body, abandon };
}

/** A whole stream in memory, for work that needs it whole (audio encoding); past `maxBytes` it is PayloadTooLarge. */
export async function readAll(source: AsyncIterable<Uint8Array>, maxBytes = Infinity): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (size > maxBytes) throw new PayloadTooLarge(`more than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
