import { createReadStream } from "node:fs";
import { describe, expect, it } from "vitest";
import { wavToMp3 } from "../../src/audio/codec.js";
import { probeAudioDurationSeconds } from "../../src/audio/probe.js";
import { fixture } from "./helpers.js";

const path = (name: string) => new URL(`../fixtures/media/${name}`, import.meta.url);

describe("probeAudioDurationSeconds", () => {
  it.each([
    ["tone.wav", "audio/wav", 1],
    ["tone-44k-stereo.wav", "audio/wav", 0.35],
    ["tone.mp3", "audio/mpeg", 1],
    ["tone.m4a", "audio/x-m4a", 1],
    ["clip.mp4", "video/mp4", 1],
  ])("times %s from a buffer and from a stream", async (name, mime, seconds) => {
    const fromBuffer = await probeAudioDurationSeconds(fixture(name), mime);
    expect(Math.abs(fromBuffer! - seconds)).toBeLessThan(0.1);
    const fromStream = await probeAudioDurationSeconds(createReadStream(path(name)), mime);
    expect(fromStream).toBeCloseTo(fromBuffer!, 6);
  });

  it("subtracts LAME encoder delay and padding, which music-metadata counts as audio", async () => {
    // At 8 kHz they add ~0.15 s; the Info tag says exactly how much.
    const mp3 = await wavToMp3(fixture("tone.wav"));
    expect(await probeAudioDurationSeconds(mp3)).toBeCloseTo(1, 3);
    expect(await probeAudioDurationSeconds(mp3.subarray(0))).toBeCloseTo(1, 3);
  });

  it.each(["image.png", "image.jpg", "image.gif", "image.bmp", "not-audio.txt"])("has no duration for %s", async (name) => {
    expect(await probeAudioDurationSeconds(fixture(name))).toBeUndefined();
  });

  it("works without a MIME type hint", async () => {
    expect(await probeAudioDurationSeconds(fixture("tone.mp3"))).toBeCloseTo(1, 2);
  });
});
