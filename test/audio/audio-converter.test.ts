import { fileTypeFromBuffer } from "file-type";
import { afterEach, describe, expect, it } from "vitest";
import { AudioConverter } from "../../src/audio/audio-converter.js";
import { probeAudioDurationSeconds } from "../../src/audio/probe.js";
import { BadRequest } from "../../src/errors.js";
import { fixture, makeWav } from "./helpers.js";

const converters: AudioConverter[] = [];
const converter = (opts?: { workers?: number }) => {
  const c = new AudioConverter(opts);
  converters.push(c);
  return c;
};
afterEach(async () => {
  await Promise.all(converters.splice(0).map((c) => c.close()));
});

describe("AudioConverter", () => {
  it("converts WAV to MP3 and back in a worker", async () => {
    const c = converter();
    const mp3 = await c.wavToMp3(fixture("tone.wav"));
    expect(Buffer.isBuffer(mp3)).toBe(true);
    expect((await fileTypeFromBuffer(mp3))?.ext).toBe("mp3");
    expect(Math.abs((await probeAudioDurationSeconds(mp3))! - 1)).toBeLessThan(0.1);

    const wav = await c.mp3ToWav(mp3);
    expect((await fileTypeFromBuffer(wav))?.ext).toBe("wav");
    expect(Math.abs((await probeAudioDurationSeconds(wav))! - 1)).toBeLessThan(0.1);
  });

  it("handles 8 kHz mono and 44.1 kHz stereo", async () => {
    const c = converter();
    for (const [name, seconds] of [["tone.wav", 1], ["tone-44k-stereo.wav", 0.35]] as const) {
      const mp3 = await c.wavToMp3(fixture(name));
      expect(Math.abs((await probeAudioDurationSeconds(mp3))! - seconds)).toBeLessThan(0.1);
      expect(Math.abs((await probeAudioDurationSeconds(await c.mp3ToWav(mp3)))! - seconds)).toBeLessThan(0.1);
    }
  });

  it("leaves the caller's input intact", async () => {
    const input = fixture("tone.wav");
    const copy = Buffer.from(input);
    await converter().wavToMp3(input);
    expect(input.equals(copy)).toBe(true);
  });

  it("rejects undecodable input with the worker's BadRequest", async () => {
    const c = converter();
    const text = c.wavToMp3(fixture("not-audio.txt"));
    await expect(text).rejects.toBeInstanceOf(BadRequest);
    await expect(text).rejects.toThrow("file is not a readable WAV file");
    await expect(c.wavToMp3(fixture("tone.wav").subarray(0, 30))).rejects.toBeInstanceOf(BadRequest);
    await expect(c.mp3ToWav(fixture("not-audio.txt"))).rejects.toThrow(/not an MP3 file/);
    // The worker survives a rejected job.
    expect((await fileTypeFromBuffer(await c.wavToMp3(fixture("tone.wav"))))?.ext).toBe("mp3");
  });

  it("keeps the event loop free while encoding", async () => {
    const c = converter();
    await c.wavToMp3(fixture("tone.wav")); // worker start-up is not what is measured
    // Long enough that even a fast encoder takes a visible while (no absolute time is asserted).
    const wav = makeWav({ rate: 44100, channels: 2, seconds: 60 });
    let last = performance.now();
    let longestGap = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      ticks++;
    }, 5);
    const start = performance.now();
    try {
      await c.wavToMp3(wav);
    } finally {
      clearInterval(timer);
    }
    const took = performance.now() - start;
    // Encoding on this thread would stall the timer for the whole conversion: one gap as long as
    // it, and no ticks in between. Relative to the conversion's own length, so load cannot fake it.
    expect(ticks).toBeGreaterThanOrEqual(3);
    expect(longestGap).toBeLessThan(took / 2);
  });

  it("completes many concurrent conversions on a pool", async () => {
    const c = converter({ workers: 2 });
    const mp3 = await c.wavToMp3(fixture("tone-44k-stereo.wav"));
    const jobs = Array.from({ length: 8 }, (_, i) =>
      i % 2 ? c.mp3ToWav(mp3) : c.wavToMp3(makeWav({ rate: 8000, channels: 1, seconds: 1 + i / 4 })),
    );
    const results = await Promise.all(jobs);
    for (const [i, out] of results.entries()) {
      expect((await fileTypeFromBuffer(out))?.ext).toBe(i % 2 ? "wav" : "mp3");
      const expected = i % 2 ? 0.35 : 1 + i / 4;
      expect(Math.abs((await probeAudioDurationSeconds(out))! - expected)).toBeLessThan(0.1);
    }
  });

  it("close() terminates the workers: in-flight jobs reject and new ones are refused", async () => {
    const c = converter();
    await c.wavToMp3(fixture("tone.wav"));
    const inFlight = expect(c.wavToMp3(makeWav({ rate: 44100, channels: 2, seconds: 10 }))).rejects.toThrow("AudioConverter closed");
    await c.close();
    await inFlight;
    await expect(c.wavToMp3(fixture("tone.wav"))).rejects.toThrow("AudioConverter closed");
  });
});
