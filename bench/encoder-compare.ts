// lamejs vs wasm-media-encoders (LAME compiled to WASM), same settings the converter uses
// (CBR 128 kbps stereo / 64 kbps mono at the source rate), in one run: encode time, and SNR of
// each output decoded by mpg123 against the source. Run: npx tsx bench/encoder-compare.ts
import { Mp3Encoder } from "@breezystack/lamejs";
import { MPEGDecoder } from "mpg123-decoder";
import { createMp3Encoder } from "wasm-media-encoders";

const rate = 44100;
const seconds = 60;
const chans = [0, 1].map((c) =>
  Int16Array.from({ length: seconds * rate }, (_, i) => 8000 * Math.sin((2 * Math.PI * (220 + 220 * c) * i) / rate) + 500 * (Math.random() - 0.5)),
);
const CHUNK = 1152 * 16;

function lame(): Uint8Array[] {
  const enc = new Mp3Encoder(2, rate, 128);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < chans[0]!.length; i += CHUNK) parts.push(Uint8Array.from(enc.encodeBuffer(chans[0]!.subarray(i, i + CHUNK), chans[1]!.subarray(i, i + CHUNK))));
  parts.push(Uint8Array.from(enc.flush()));
  return parts;
}
const wasmEnc = await createMp3Encoder();
function wasm(): Uint8Array[] {
  wasmEnc.configure({ channels: 2, sampleRate: rate, bitrate: 128 });
  const f = chans.map((c) => Float32Array.from(c, (x) => x / 32768));
  const parts: Uint8Array[] = [];
  for (let i = 0; i < f[0]!.length; i += CHUNK) parts.push(wasmEnc.encode(f.map((c) => c.subarray(i, i + CHUNK))).slice());
  parts.push(wasmEnc.finalize().slice());
  return parts;
}
const concat = (p: Uint8Array[]) => Buffer.concat(p);
async function snr(mp3: Uint8Array): Promise<{ snr: string; samples: number; bytes: number; lag: number; errors: number }> {
  const dec = new MPEGDecoder();
  await dec.ready;
  const { channelData, samplesDecoded, errors } = dec.decode(mp3);
  dec.free();
  // find the encoder delay by best alignment in 0..3000 samples
  const src = chans[0]!;
  let best = { lag: 0, err: Infinity };
  for (let lag = 0; lag < 3000; lag++) {
    let e = 0;
    for (let i = 10000; i < 20000; i++) e += (channelData[0]![i + lag]! * 32768 - src[i]!) ** 2;
    if (e < best.err) best = { lag, err: e };
  }
  let sig = 0, noise = 0;
  for (let c = 0; c < 2; c++) for (let i = 0; i < src.length - 5000; i++) {
    const s = chans[c]![i]!;
    sig += s * s;
    noise += (channelData[c]![i + best.lag]! * 32768 - s) ** 2;
  }
  return { snr: (10 * Math.log10(sig / noise)).toFixed(1), samples: samplesDecoded, bytes: mp3.length, lag: best.lag, errors: errors.length };
}
for (const [name, fn] of [["lamejs", lame], ["wasm-media-encoders", wasm], ["lamejs", lame], ["wasm-media-encoders", wasm]] as const) {
  const t = performance.now();
  const out = concat(fn());
  const wall = (performance.now() - t) / 1000;
  console.log(`${name}: ${wall.toFixed(2)} s = ${(seconds / wall).toFixed(1)}x real time`, await snr(out));
}
