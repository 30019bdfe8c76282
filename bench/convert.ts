// Real-time factor of WAV -> MP3 in AudioConverter's worker: seconds of audio encoded per second
// of wall time, for 60 s of audio (44.1 kHz stereo is the headline; 8 kHz mono is telephony;
// 96 kHz stereo is resampled to 48 kHz by LAME). Median of 3 runs each.
// Run: npx tsx bench/convert.ts   (appends its table to $BENCH_MARKDOWN_OUT when that is set)
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
  rows.push(
    `| ${seconds} s ${rate / 1000} kHz ${channels === 2 ? "stereo" : "mono"} | ${(input.length / 1e6).toFixed(2)} MB -> ${(bytes / 1e6).toFixed(2)} MB | ` +
      `${wall.toFixed(2)} | ${(seconds / wall).toFixed(1)}x | 30x |`,
  );
}
await converter.close();

const markdown = [
  `### WAV -> MP3 (one worker, median of ${runs}; load average ${os.loadavg().map((n) => n.toFixed(1)).join(" ")})`,
  "",
  "| input | size | wall s | real-time factor | target |",
  "| --- | --- | --- | --- | --- |",
  ...rows,
  "",
].join("\n");
console.log(markdown);
if (process.env.BENCH_MARKDOWN_OUT) fs.appendFileSync(process.env.BENCH_MARKDOWN_OUT, `${markdown}\n`);
