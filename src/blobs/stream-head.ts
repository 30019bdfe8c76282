import type { BlobSource } from "./blob-store.js";

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
