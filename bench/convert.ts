// Real-time factor of WAV -> MP3 in AudioConverter's worker: seconds of audio encoded per second
// of wall time, for 60 s of audio (44.1 kHz stereo is the headline; 8 kHz mono is telephony;
// 96 kHz stereo is resampled to 48 kHz by LAME). Median of 3 runs each.
// Run: npx tsx bench/convert.ts   (appends rows of npm run bench's table, and its own table as a
// section, to $BENCH_MARKDOWN_OUT when that is set: bench/report.sh)
import fs from "node:fs";
import os from "node:os";
import wavefile from "wavefile";
import { AudioConverter } from "../src/audio/audio-converter.js";

function wav(seconds: number, rate: number, channels: number): Uint8Array {
  const chans = Array.from({ length: channels }, (_, c) =>
    // A tone plus a little noise, so the encoder has real content to work on.
    Int16Array.from({ length: seconds * rate }, (_, i) => 8000 * Math.sin((2 * Math.PI * (220 + 220 * c) * i) / rate) + 500 * (Math.random() - 0.5)),
  );
  const w = new wavefile.WaveFile();
  w.fromScratch(channels, rate, "16", chans);
  return w.toBuffer();
}

const seconds = 60;
const runs = 3;
const converter = new AudioConverter();
await converter.wavToMp3(wav(1, 8000, 1)); // start the worker outside the timing
const rows: string[] = [];
const summary: string[] = [];
const load = () => os.loadavg()[0]!.toFixed(1);
for (const [rate, channels] of [[44100, 2], [8000, 1], [96000, 2]] as const) {
  const input = wav(seconds, rate, channels);
  const walls: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    bytes = (await converter.wavToMp3(input)).length;
    walls.push((performance.now() - start) / 1000);
  }
  const wall = walls.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  const label = `${seconds} s ${rate / 1000} kHz ${channels === 2 ? "stereo" : "mono"}`;
  const factor = seconds / wall;
  rows.push(`| ${label} | ${(input.length / 1e6).toFixed(2)} MB -> ${(bytes / 1e6).toFixed(2)} MB | ${wall.toFixed(2)} | ${factor.toFixed(1)}x |`);
  // One row of npm run bench's results table (bench/report.sh's columns); the target is 44.1 kHz stereo's.
  const target = rate === 44100 && channels === 2;
  summary.push(
    `| WAV -> MP3, ${label}, one worker | ${factor.toFixed(1)}x real time | real time | ${factor.toFixed(1)} | ${target ? ">= 30x" : "-"} | ${target ? (factor >= 30 ? "yes" : "no") : "-"} | ${load()} |`,
  );
}
await converter.close();

const section = [
  `WAV -> MP3 in AudioConverter's worker (LAME in WASM, wasm-media-encoders), median of ${runs} runs:`,
  "",
  "| input | size | wall s | real-time factor |",
  "| --- | --- | --- | --- |",
  ...rows,
].join("\n");
console.log([...summary, "", section].join("\n"));
if (process.env.BENCH_MARKDOWN_OUT) {
  fs.appendFileSync(process.env.BENCH_MARKDOWN_OUT, `${summary.join("\n")}\n<!-- bench-section -->\n${section}\n<!-- /bench-section -->\n`);
}
