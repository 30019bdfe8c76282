import { fileTypeFromBuffer } from "file-type";
import { parseBuffer } from "music-metadata";
import wavefile from "wavefile";
import { describe, expect, it } from "vitest";
import { mp3ToWav, wavToMp3 } from "../../src/audio/codec.js";
import { probeAudioDurationSeconds } from "../../src/audio/probe.js";
import { BadRequest } from "../../src/errors.js";
import { fixture, makeWav, rms, wavChannels } from "./helpers.js";

const dataOffset = (wav: Buffer): number => wav.indexOf("data") + 8;

describe("wavToMp3", () => {
  it("encodes the 8 kHz mono fixture to an MP3 of the same length", async () => {
    const mp3 = await wavToMp3(fixture("tone.wav"));
    expect(await fileTypeFromBuffer(mp3)).toEqual({ ext: "mp3", mime: "audio/mpeg" });
    const { format } = await parseBuffer(mp3, "audio/mpeg");
    expect(format).toMatchObject({ sampleRate: 8000, numberOfChannels: 1, bitrate: 64000, codecProfile: "CBR" });
    expect(Math.abs((await probeAudioDurationSeconds(mp3))! - 1)).toBeLessThan(0.01);
  });

  it("encodes the 44.1 kHz stereo fixture as stereo", async () => {
    const mp3 = await wavToMp3(fixture("tone-44k-stereo.wav"));
    expect((await fileTypeFromBuffer(mp3))?.ext).toBe("mp3");
    const { format } = await parseBuffer(mp3, "audio/mpeg");
    expect(format).toMatchObject({ sampleRate: 44100, numberOfChannels: 2, bitrate: 128000 });
    expect(Math.abs((await probeAudioDurationSeconds(mp3))! - 0.35)).toBeLessThan(0.01);
  });

  it("records encoder delay and padding so a decode comes back sample-aligned", async () => {
    // A 20 ms burst a third of the way in: it must decode at the same sample offset.
    const rate = 8000;
    const burst = Int16Array.from({ length: rate }, (_, i) =>
      i >= 2000 && i < 2160 ? Math.round(16000 * Math.sin((2 * Math.PI * 300 * i) / rate)) : 0,
    );
    const wav = new wavefile.WaveFile();
    wav.fromScratch(1, rate, "16", burst);
    const [decoded] = wavChannels(await mp3ToWav(await wavToMp3(wav.toBuffer()))).channels;
    expect(decoded!.length).toBe(rate);
    const energy = (from: number, to: number) => rms(decoded!.subarray(from, to));
    expect(energy(2000, 2160)).toBeGreaterThan(0.2);
    expect(energy(0, 1900)).toBeLessThan(0.01);
    expect(energy(2300, rate)).toBeLessThan(0.01);
  });

  it.each([
    ["8", 1],
    ["16", 2],
    ["24", 1],
    ["32", 2],
    ["32f", 1],
    ["64", 2],
  ])("reads %s-bit samples (%i channels) at the right level", async (bitDepth, channels) => {
    const mp3 = await wavToMp3(makeWav({ rate: 16000, channels, seconds: 0.5, bitDepth }));
    const decoded = wavChannels(await mp3ToWav(mp3));
    expect(decoded.channels).toHaveLength(channels);
    // A half-scale sine has an RMS of 0.5 / sqrt(2).
    expect(rms(decoded.channels[0]!)).toBeCloseTo(0.354, 1);
  });

  it("decodes A-law, mu-law and IMA ADPCM WAVs", async () => {
    for (const convert of ["toALaw", "toMuLaw", "toIMAADPCM"] as const) {
      const wav = new wavefile.WaveFile(makeWav({ rate: 8000, channels: 1, seconds: 0.5 }));
      wav[convert]();
      const level = rms(wavChannels(await mp3ToWav(await wavToMp3(wav.toBuffer()))).channels[0]!);
      // Looser than PCM: wavefile's own IMA ADPCM decoder comes back at ~0.3 for this sine.
      expect(level).toBeGreaterThan(0.25);
      expect(level).toBeLessThan(0.4);
    }
  });

  it("resamples rates MP3 cannot carry to the next one it can", async () => {
    for (const [from, to] of [
      [96000, 48000],
      [10000, 11025],
    ]) {
      const mp3 = await wavToMp3(makeWav({ rate: from!, channels: 1, seconds: 0.5 }));
      expect((await parseBuffer(mp3)).format.sampleRate).toBe(to);
      expect(Math.abs((await probeAudioDurationSeconds(mp3))! - 0.5)).toBeLessThan(0.01);
    }
  });

  it("refuses rates below 8 kHz, which could only be upsampled", async () => {
    await expect(wavToMp3(makeWav({ rate: 6000, channels: 1, seconds: 0.5 }))).rejects.toThrow(
      new BadRequest("WAV sample rate 6000 Hz is not supported: use 8000 to 192000 Hz"),
    );
  });

  it.each([
    ["a text file", () => fixture("not-audio.txt"), /not a readable WAV/],
    ["an empty buffer", () => new Uint8Array(0), /not a readable WAV/],
    ["a truncated WAV header", () => fixture("tone.wav").subarray(0, 30), /not a readable WAV/],
    ["a WAV cut before its first sample", () => fixture("tone.wav").subarray(0, dataOffset(fixture("tone.wav"))), /no audio samples/],
    ["an MP3", () => fixture("tone.mp3"), /not a readable WAV/],
    ["a 6-channel WAV", () => makeWav({ rate: 8000, channels: 6, seconds: 0.1 }), /6 channels/],
  ])("rejects %s with BadRequest", async (_name, input, message) => {
    await expect(wavToMp3(input())).rejects.toThrow(BadRequest);
    await expect(wavToMp3(input())).rejects.toThrow(message);
  });

  it("encodes what is there of a WAV whose data was cut short", async () => {
    const mp3 = await wavToMp3(fixture("tone.wav").subarray(0, 8001)); // ends mid-sample
    expect((await fileTypeFromBuffer(mp3))?.ext).toBe("mp3");
  });
});

describe("mp3ToWav", () => {
  it("decodes the ffmpeg-made MP3 fixture (with an ID3v2 tag) to 16-bit PCM", async () => {
    const wav = await mp3ToWav(fixture("tone.mp3"));
    expect(await fileTypeFromBuffer(wav)).toEqual({ ext: "wav", mime: "audio/wav" });
    const { format } = await parseBuffer(wav);
    expect(format).toMatchObject({ codec: "PCM", bitsPerSample: 16, sampleRate: 22050, numberOfChannels: 1 });
    expect(Math.abs(format.duration! - 1)).toBeLessThan(0.1);
  });

  it("round-trips 44.1 kHz stereo", async () => {
    const wav = await mp3ToWav(await wavToMp3(fixture("tone-44k-stereo.wav")));
    const { format } = await parseBuffer(wav);
    expect(format).toMatchObject({ sampleRate: 44100, numberOfChannels: 2, numberOfSamples: 15435 });
  });

  it.each([
    ["a text file", () => fixture("not-audio.txt"), /not an MP3 file/],
    ["a WAV (mpg123 would decode it as noise)", () => fixture("tone.wav"), /not an MP3 file/],
    ["a truncated MP3 header", () => fixture("tone.mp3").subarray(0, 3), /not an MP3 file/],
    ["an ID3 tag and a partial first frame", () => fixture("tone.mp3").subarray(0, 60), /no decodable audio/],
    ["an empty buffer", () => new Uint8Array(0), /not an MP3 file/],
  ])("rejects %s with BadRequest", async (_name, input, message) => {
    await expect(mp3ToWav(input())).rejects.toBeInstanceOf(BadRequest);
    await expect(mp3ToWav(input())).rejects.toThrow(message);
  });
});
