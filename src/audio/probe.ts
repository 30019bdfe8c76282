import { Readable } from "node:stream";
import { parseBuffer, parseStream, type IAudioMetadata } from "music-metadata";
import { readGapless } from "./mp3-frames.js";

// The Info tag sits in the first frame, after any ID3v2 tag; 64 KB covers all but cover-art tags.
const HEAD_BYTES = 64 * 1024;

async function* tee(src: Readable, head: Buffer[]): AsyncGenerator<Buffer> {
  let kept = 0;
  for await (const chunk of src) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    if (kept < HEAD_BYTES) {
      head.push(buf);
      kept += buf.length;
    }
    yield buf;
  }
}

/**
 * Playing time in seconds, or undefined when the bytes are not audio/video music-metadata can
 * time. A stream is read as far as needed (to its end for MP3, whose frames are counted) and then
 * destroyed, so a part-read file stream does not keep its descriptor.
 */
export async function probeAudioDurationSeconds(input: Uint8Array | Readable, mime?: string): Promise<number | undefined> {
  const options = { duration: true, skipCovers: true };
  let meta: IAudioMetadata;
  let head: Uint8Array;
  try {
    if (input instanceof Uint8Array) {
      meta = await parseBuffer(input, mime, options);
      head = input.subarray(0, HEAD_BYTES);
    } else {
      const chunks: Buffer[] = [];
      const source = Readable.from(tee(input, chunks), { objectMode: false });
      try {
        meta = await parseStream(source, mime, options);
      } finally {
        // Destroying the wrapper ends the generator, which closes the input; nothing may emit
        // an unhandled 'error' afterwards.
        source.on("error", () => {});
        source.destroy();
        input.on("error", () => {});
        input.destroy();
      }
      head = Buffer.concat(chunks);
    }
  } catch {
    return undefined; // not a format music-metadata knows, or corrupt: no length to report
  }
  const { duration, container } = meta.format;
  if (duration === undefined || !Number.isFinite(duration)) return undefined;
  // music-metadata counts whole frames; LAME-style encoders pad both ends and say by how much.
  const gapless = container === "MPEG" ? readGapless(head) : undefined;
  return gapless ? Math.max(0, duration - (gapless.delay + gapless.padding) / gapless.sampleRate) : duration;
}
