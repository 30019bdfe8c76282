// WAV <-> MP3 as pure, synchronous-CPU functions. They block for as long as the audio takes to
// encode, so the server calls them through AudioConverter's worker threads, never directly.

import { MPEGDecoder } from "mpg123-decoder";
import wavefile from "wavefile";
import { createMp3Encoder, type WasmMediaEncoder } from "wasm-media-encoders";
import { BadRequest } from "../errors.js";
import { firstFrame, lameInfoFrame, parseFrameHeader } from "./mp3-frames.js";

const { WaveFile } = wavefile;

/** The only sample rates MPEG-1/2/2.5 Layer III (and so LAME) can encode. */
export const MP3_SAMPLE_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];
/** LAME delays its output by this many samples; recorded in the Info tag so decoders trim it. */
const LAME_ENCODER_DELAY = 576;
/** Sample frames handed to LAME per call. */
const CHUNK = 1152 * 64;

// WAVE format tags wavefile can turn into 16-bit PCM: PCM, IEEE float, A-law, mu-law, IMA ADPCM.
const DECODABLE_FORMATS = new Set([1, 3, 6, 7, 0x11]);

interface Fmt {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  blockAlign: number;
  subformat?: number[];
}

function readWav(bytes: Uint8Array): InstanceType<typeof WaveFile> {
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (err) {
    throw new BadRequest("file is not a readable WAV file", String((err as Error).message ?? err));
  }
  const fmt = wav.fmt as Fmt;
  // WAVE_FORMAT_EXTENSIBLE keeps the real format tag in the first field of the subformat GUID;
  // wavefile decodes its samples as integers, so only the PCM subformat is read correctly.
  const format = fmt.audioFormat === 0xfffe ? (fmt.subformat?.[0] === 1 ? 1 : -1) : fmt.audioFormat;
  if (!DECODABLE_FORMATS.has(format)) {
    throw new BadRequest(`unsupported WAV encoding (format tag 0x${fmt.audioFormat.toString(16)}); use PCM or float`);
  }
  if (fmt.numChannels < 1 || fmt.numChannels > 2) {
    throw new BadRequest(`WAV has ${fmt.numChannels} channels; only mono and stereo are supported`);
  }
  const data = (wav as unknown as { data: { samples: Uint8Array } }).data;
  // A truncated file can end mid-sample; wavefile cannot unpack a partial sample.
  if (format !== 0x11) data.samples = data.samples.subarray(0, data.samples.length - (data.samples.length % fmt.blockAlign));
  if (data.samples.length === 0) throw new BadRequest("WAV file contains no audio samples");
  return wav;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

let encoder: Promise<WasmMediaEncoder<"audio/mpeg">> | undefined;

/** The LAME build: instantiated once per thread, reconfigured for every file. */
function mp3Encoder(): Promise<WasmMediaEncoder<"audio/mpeg">> {
  encoder ??= createMp3Encoder();
  return encoder;
}

export async function wavToMp3(wavBytes: Uint8Array): Promise<Uint8Array> {
  const wav = readWav(wavBytes);
  const { sampleRate, numChannels } = wav.fmt as Fmt;
  // Below 8 kHz the only way to MP3 is upsampling, which multiplies the work and the memory.
  if (sampleRate < MP3_SAMPLE_RATES[0]! || sampleRate > 192000) {
    throw new BadRequest(`WAV sample rate ${sampleRate} Hz is not supported: use 8000 to 192000 Hz`);
  }
  // Expand companded/ADPCM samples first: toBitDepth on them rescales as if they were 8-bit PCM.
  const expand = ({ "8a": "fromALaw", "8m": "fromMuLaw", "4": "fromIMAADPCM" } as const)[wav.bitDepth];
  if (expand) wav[expand]();
  if (wav.bitDepth !== "16") wav.toBitDepth("16");
  const bytes = (wav as unknown as { data: { samples: Uint8Array } }).data.samples;
  // Interleaved 16-bit little-endian samples (the view needs an even offset, so copy if not).
  const pcm = new Int16Array(bytes.byteOffset % 2 ? bytes.slice().buffer : bytes.buffer, bytes.byteOffset % 2 ? 0 : bytes.byteOffset, bytes.length >> 1);
  const channels = numChannels as 1 | 2;
  const frames = Math.floor(pcm.length / channels);
  if (frames === 0) throw new BadRequest("WAV file contains no audio samples");

  // LAME resamples rates MP3 cannot carry to the next one it can (its own polyphase filter).
  const rate = MP3_SAMPLE_RATES.find((r) => r >= sampleRate) ?? 48000;
  const lame = await mp3Encoder();
  lame.configure({ channels, sampleRate, bitrate: channels === 2 ? 128 : 64, outputSampleRate: rate as 44100 });
  const parts: Uint8Array[] = [];
  const planes = Array.from({ length: channels }, () => new Float32Array(CHUNK));
  for (let at = 0; at < frames; at += CHUNK) {
    const n = Math.min(CHUNK, frames - at);
    for (let c = 0; c < channels; c++) {
      const plane = planes[c]!;
      for (let i = 0, j = at * channels + c; i < n; i++, j += channels) plane[i] = pcm[j]! / 32768;
    }
    // The encoder's output buffer is reused by its next call: keep a copy.
    parts.push(lame.encode(planes.map((p) => p.subarray(0, n))).slice());
  }
  parts.push(lame.finalize().slice());
  const audio = concat(parts);

  const first = parseFrameHeader(audio, 0);
  if (!first) throw new Error("LAME produced no MP3 frames");
  let count = 0;
  for (let at = 0; at < audio.length; count++) {
    const h = parseFrameHeader(audio, at);
    if (!h) throw new Error(`LAME produced an invalid MP3 frame at byte ${at}`);
    at += h.frameLength;
  }
  const samples = Math.round((frames * rate) / sampleRate);
  const padding = count * first.samplesPerFrame - LAME_ENCODER_DELAY - samples;
  return concat([lameInfoFrame(audio, first, count, LAME_ENCODER_DELAY, padding), audio]);
}

function toInt16(f: Float32Array): Int16Array {
  const out = new Int16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const x = Math.max(-1, Math.min(1, f[i]!));
    out[i] = Math.round(x < 0 ? x * 32768 : x * 32767);
  }
  return out;
}

export async function mp3ToWav(mp3: Uint8Array): Promise<Uint8Array> {
  // mpg123 finds "frames" in almost anything (a WAV decodes to noise), so insist on an MP3 start.
  const head = firstFrame(mp3);
  if (!head) throw new BadRequest("file is not an MP3 file: no MPEG audio frame at its start");
  const decoder = new MPEGDecoder();
  await decoder.ready;
  try {
    const { channelData, samplesDecoded, sampleRate } = decoder.decode(mp3);
    if (!samplesDecoded) throw new BadRequest("MP3 file contains no decodable audio");
    // mpg123-decoder always returns two channels; a mono stream gets the same samples twice.
    const pcm = channelData.slice(0, head.channels).map(toInt16);
    const wav = new WaveFile();
    wav.fromScratch(pcm.length, sampleRate, "16", pcm);
    return wav.toBuffer();
  } finally {
    decoder.free();
  }
}
