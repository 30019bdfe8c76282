import { readFileSync } from "node:fs";
import wavefile from "wavefile";

export const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/media/${name}`, import.meta.url));

/** A 440 Hz sine at half scale in any WAV sample format wavefile can write. */
export function makeWav(opts: { rate: number; channels: number; seconds: number; bitDepth?: string }): Uint8Array {
  const { rate, channels, seconds, bitDepth = "16" } = opts;
  const n = Math.round(rate * seconds);
  const float = bitDepth === "32f" || bitDepth === "64";
  const bits = Number.parseInt(bitDepth, 10);
  const peak = float ? 1 : 2 ** (bits - 1) - 1;
  const sine = Float64Array.from({ length: n }, (_, i) => {
    const v = 0.5 * peak * Math.sin((2 * Math.PI * 440 * i) / rate);
    return bits === 8 ? Math.round(v + 128) : float ? v : Math.round(v); // 8-bit WAV is unsigned
  });
  const wav = new wavefile.WaveFile();
  wav.fromScratch(channels, rate, bitDepth, channels === 1 ? sine : Array.from({ length: channels }, () => sine));
  return wav.toBuffer();
}

/** Channels of a WAV as floats in [-1, 1]. */
export function wavChannels(bytes: Uint8Array): { rate: number; channels: Float64Array[] } {
  const wav = new wavefile.WaveFile(bytes);
  wav.toBitDepth("32f");
  const s = wav.getSamples(false) as unknown as Float64Array | Float64Array[];
  return { rate: (wav.fmt as { sampleRate: number }).sampleRate, channels: Array.isArray(s) ? s : [s] };
}

export const rms = (x: Float64Array): number => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
