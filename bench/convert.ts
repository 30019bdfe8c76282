// Real-time factor of WAV -> MP3 in AudioConverter's worker: seconds of audio encoded per second
// of wall time, for 60 s of audio (44.1 kHz stereo is the headline; 8 kHz mono is telephony).
// Run: npx tsx bench/convert.ts
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

const converter = new AudioConverter();
await converter.wavToMp3(wav(1, 8000, 1)); // start the worker outside the timing
for (const [rate, channels] of [[44100, 2], [8000, 1]] as const) {
  const seconds = 60;
  const input = wav(seconds, rate, channels);
  const start = performance.now();
  const mp3 = await converter.wavToMp3(input);
  const wall = (performance.now() - start) / 1000;
  console.log(
    `WAV -> MP3, ${seconds} s ${rate / 1000} kHz ${channels === 2 ? "stereo" : "mono"} ` +
      `(${(input.length / 1e6).toFixed(2)} MB -> ${(mp3.length / 1e6).toFixed(2)} MB): ` +
      `${wall.toFixed(2)} s wall, real-time factor ${(seconds / wall).toFixed(1)}x`,
  );
}
await converter.close();
