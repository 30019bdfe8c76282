// Just enough MPEG audio frame parsing to (1) tell a real MP3 from bytes that merely contain a
// sync word, (2) write and read the LAME "Info" tag that carries encoder delay and padding.
// Without that tag every decoder and music-metadata report encoder delay + padding as audio,
// which at 8 kHz is ~0.15-0.2 s of extra length.

export interface FrameHeader {
  mpeg1: boolean;
  layer: 1 | 2 | 3;
  sampleRate: number;
  channels: 1 | 2;
  samplesPerFrame: number;
  bitrateKbps: number;
  frameLength: number;
  /** Bytes between the 4-byte header and the Xing/Info tag (Layer III side info, plus CRC). */
  sideInfoLength: number;
}

const BITRATES: Record<string, number[]> = {
  "1-1": [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  "1-2": [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  "1-3": [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  "2-1": [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  "2-2": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
BITRATES["2-3"] = BITRATES["2-2"]!;

/** Decodes the 4-byte frame header at `at`; undefined unless it is a valid, non-free-format one. */
export function parseFrameHeader(b: Uint8Array, at: number): FrameHeader | undefined {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1]! & 0xe0) !== 0xe0) return undefined;
  const version = (b[at + 1]! >> 3) & 3; // 0 = MPEG 2.5, 2 = MPEG 2, 3 = MPEG 1
  const layer = (4 - ((b[at + 1]! >> 1) & 3)) as 1 | 2 | 3 | 4;
  const bitrateIndex = b[at + 2]! >> 4;
  const rateIndex = (b[at + 2]! >> 2) & 3;
  if (version === 1 || layer === 4 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) {
    return undefined;
  }
  const mpeg1 = version === 3;
  const sampleRate = [44100, 48000, 32000][rateIndex]! / (mpeg1 ? 1 : version === 2 ? 2 : 4);
  const bitrateKbps = BITRATES[`${mpeg1 ? 1 : 2}-${layer}`]![bitrateIndex]!;
  const bitrate = bitrateKbps * 1000;
  const padding = (b[at + 2]! >> 1) & 1;
  const channels = b[at + 3]! >> 6 === 3 ? 1 : 2;
  const samplesPerFrame = layer === 1 ? 384 : layer === 3 && !mpeg1 ? 576 : 1152;
  const frameLength =
    layer === 1
      ? (Math.floor((12 * bitrate) / sampleRate) + padding) * 4
      : Math.floor(((samplesPerFrame / 8) * bitrate) / sampleRate) + padding;
  const crc = (b[at + 1]! & 1) === 0 ? 2 : 0;
  const sideInfoLength = (mpeg1 ? (channels === 1 ? 17 : 32) : channels === 1 ? 9 : 17) + crc;
  return { mpeg1, layer, sampleRate, channels, samplesPerFrame, bitrateKbps, frameLength, sideInfoLength };
}

/** Offset of the first byte after a leading ID3v2 tag (0 when there is none). */
export function skipId3v2(b: Uint8Array): number {
  if (b.length < 10 || b[0] !== 0x49 || b[1] !== 0x44 || b[2] !== 0x33) return 0;
  const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f);
  return 10 + size + (b[5]! & 0x10 ? 10 : 0);
}

/**
 * The first frame, which must start right after any ID3v2 tag and be followed by another
 * frame header (or the end of the data): one sync word alone is found in PCM noise too.
 */
export function firstFrame(b: Uint8Array): (FrameHeader & { offset: number }) | undefined {
  const offset = skipId3v2(b);
  const h = parseFrameHeader(b, offset);
  if (!h) return undefined;
  const next = offset + h.frameLength;
  if (next < b.length && !parseFrameHeader(b, next)) return undefined;
  return { ...h, offset };
}

const XING_FLAGS = 0x0f; // frames, bytes, TOC, quality: the layout LAME writes and readers expect

/** CRC-16/ARC, the checksum the LAME tag uses for itself and for the music data. */
function crc16(b: Uint8Array, crc = 0): number {
  for (const byte of b) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/**
 * Builds a CBR "Info" frame (Xing header + LAME tag) for Layer III `audio` that starts with
 * `h`, so gapless decoders trim `delay` samples at the start and `padding` at the end.
 */
export function lameInfoFrame(audio: Uint8Array, h: FrameHeader, frames: number, delay: number, padding: number): Uint8Array {
  const frame = new Uint8Array(h.frameLength - ((audio[2]! >> 1) & 1));
  frame.set(audio.subarray(0, 4));
  frame[2]! &= ~0x02; // no padding slot: the frame length above excludes it
  const dv = new DataView(frame.buffer);
  let o = 4 + h.sideInfoLength;
  if (o + 156 > frame.length) throw new Error(`MP3 frame of ${frame.length} bytes too small for an Info tag`);
  const total = frame.length + audio.length;
  frame.set(Buffer.from("Info"), o);
  dv.setUint32(o + 4, XING_FLAGS);
  dv.setUint32(o + 8, frames);
  dv.setUint32(o + 12, total);
  for (let i = 0; i < 100; i++) frame[o + 16 + i] = Math.floor((i * 256) / 100); // CBR: linear TOC
  o += 120; // past the TOC and a zero quality field
  frame.set(Buffer.from("LAME3.99r"), o);
  frame[o + 9] = 0x01; // tag revision 0, VBR method 1 = CBR
  frame[o + 20] = Math.min(255, h.bitrateKbps);
  frame[o + 21] = delay >> 4;
  frame[o + 22] = ((delay & 0x0f) << 4) | (padding >> 8);
  frame[o + 23] = padding & 0xff;
  dv.setUint32(o + 28, total);
  dv.setUint16(o + 32, crc16(audio));
  dv.setUint16(o + 34, crc16(frame.subarray(0, 190))); // the spec's (and ffmpeg's) span, field still zero
  return frame;
}

/** Encoder delay and padding (in samples) from a LAME/Lavc Info tag in the first frame. */
export function readGapless(b: Uint8Array): { delay: number; padding: number; sampleRate: number } | undefined {
  const h = firstFrame(b);
  if (!h || h.layer !== 3) return undefined;
  const text = (at: number) => Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1", at, at + 4);
  let o = h.offset + 4 + h.sideInfoLength;
  if ((text(o) !== "Info" && text(o) !== "Xing") || o + 8 > b.length) return undefined;
  const flags = new DataView(b.buffer, b.byteOffset).getUint32(o + 4);
  o += 8 + (flags & 1 ? 4 : 0) + (flags & 2 ? 4 : 0) + (flags & 4 ? 100 : 0) + (flags & 8 ? 4 : 0);
  // Encoder tags ("LAME3.100", "Lavc60.3") start with letters; anything else is no tag at all.
  if (o + 24 > b.length || !/^[A-Za-z]{4}$/.test(text(o))) return undefined;
  const delay = (b[o + 21]! << 4) | (b[o + 22]! >> 4);
  const padding = ((b[o + 22]! & 0x0f) << 8) | b[o + 23]!;
  return { delay, padding, sampleRate: h.sampleRate };
}
