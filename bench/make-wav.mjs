// Writes a valid PCM WAV file of exactly <bytes> bytes (16-bit stereo 44.1 kHz: a tone plus noise),
// streaming 1 MiB at a time so even a 200 MiB file never sits in memory.
//
//   node bench/make-wav.mjs <path> <bytes> [seed]
import { closeSync, openSync, writeSync } from "node:fs";

const [path, bytesArg, seedArg = "1"] = process.argv.slice(2);
const total = Number(bytesArg);
const dataBytes = total - 44;
if (!path || !Number.isSafeInteger(total) || dataBytes <= 0 || dataBytes % 4 !== 0 || total > 0xffffffff) {
  console.error("usage: node bench/make-wav.mjs <path> <bytes: 44 + a multiple of 4, < 4 GiB> [seed]");
  process.exit(2);
}

const rate = 44100;
const channels = 2;
const header = Buffer.alloc(44);
header.write("RIFF", 0, "ascii");
header.writeUInt32LE(36 + dataBytes, 4);
header.write("WAVE", 8, "ascii");
header.write("fmt ", 12, "ascii");
header.writeUInt32LE(16, 16); // fmt chunk size
header.writeUInt16LE(1, 20); // PCM
header.writeUInt16LE(channels, 22);
header.writeUInt32LE(rate, 24);
header.writeUInt32LE(rate * channels * 2, 28); // byte rate
header.writeUInt16LE(channels * 2, 32); // block align
header.writeUInt16LE(16, 34); // bits per sample
header.write("data", 36, "ascii");
header.writeUInt32LE(dataBytes, 40);

const fd = openSync(path, "w");
writeSync(fd, header);
const chunk = Buffer.alloc(1024 * 1024);
let state = (Number(seedArg) >>> 0) || 1; // xorshift32
let frame = 0;
for (let left = dataBytes; left > 0; ) {
  const n = Math.min(left, chunk.length);
  for (let i = 0; i < n; i += 4, frame++) {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    const noise = (state & 0x3ff) - 512;
    chunk.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 220 * frame) / rate)) + noise, i);
    chunk.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * frame) / rate)) - noise, i + 2);
  }
  writeSync(fd, chunk, 0, n);
  left -= n;
}
closeSync(fd);
