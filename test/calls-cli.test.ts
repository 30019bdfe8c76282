import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AudioConverter } from "../src/audio/audio-converter.js";
import { FsBlobStore } from "../src/blobs/index.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { createServices } from "../src/server.js";
import { runCli } from "./support/cli.js";

const wavFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "fixtures/media/tone.wav");

describe("the switchboard billing and call commands", () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-cli-"));
    env = { SWITCHBOARD_DATA_DIR: dataDir };
    await runCli(["migrate"], env);
    await runCli(["account", "create", "--email", "ops@example.com", "--password", "operator-pass"], env);
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("sets a plan and adds credits, refusing more than 4 decimals", async () => {
    const plan = await runCli(["plan", "set", "--account", "1", "--name", "Gold", "--monthly-credits", "100", "--credits-per-call-minute", "0.5", "--credits-per-text", "0.0125"], env);
    expect(plan).toMatchObject({ code: 0, stdout: 'plan "Gold" (100 credits/month, 0.5/call minute, 0.0125/text): 100 plan + 0 pay-as-you-go = 100 credits left this month\n' });

    const added = await runCli(["credits", "add", "--account", "1", "--amount", "12.3456", "--json"], env);
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ remainingPlanCredits: 100, remainingPayAsYouGoCredits: 12.3456, totalRemainingCredits: 112.3456 });
    const deducted = await runCli(["credits", "add", "--account", "1", "--amount", "-2.3456"], env);
    expect(deducted.stdout).toContain("100 plan + 10 pay-as-you-go = 110 credits left this month");

    expect(await runCli(["credits", "add", "--account", "1", "--amount", "0.00001"], env)).toMatchObject({
      code: 2,
      stderr: "switchboard: amount: 0.00001 has more than 4 decimal places\n",
    });
    expect(await runCli(["credits", "add", "--account", "1", "--amount", "ten"], env)).toMatchObject({
      code: 2,
      stderr: 'switchboard: --amount: "ten" is not a number of credits\n',
    });
    expect(await runCli(["credits", "add", "--account", "7", "--amount", "1"], env)).toMatchObject({ code: 2, stderr: "switchboard: account 7 not found\n" });
  });

  it("ingests a call with its WAV recording, once per external id", async () => {
    const start = new Date().toISOString();
    const args = ["call", "ingest", "--account", "1", "--from", "12135551189", "--to", "+13105550100", "--start", start, "--duration", "95", "--external-id", "pbx-77", "--recording", wavFile, "--json"];
    const first = await runCli(args, env);
    expect(first.stderr).toBe("");
    const { call, recording } = JSON.parse(first.stdout);
    expect(call).toMatchObject({ id: 1, accountId: 1, fromNumber: "12135551189", toNumber: "13105550100", startTime: Date.parse(start), durationSeconds: 95, externalId: "pbx-77" });
    expect(call.charge).toEqual({ minutes: 2, credits: 2, planCredits: 0, payAsYouGoCredits: 2 });
    expect(recording).toMatchObject({ id: 1, callId: 1, name: "tone", state: "READY", lengthInSeconds: 1, mp3Url: "http://127.0.0.1:8080/v2/calls/recordings/1.mp3" });

    // A hook that runs again after a timeout succeeds with the same call and recording, charged once.
    const again = await runCli(args, env);
    expect(again).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(again.stdout)).toEqual({ call, recording });

    const config = loadConfig({ dataDir, logLevel: "silent" }, {});
    const database = openDatabase({ dataDir });
    const converter = new AudioConverter();
    const blobs = new FsBlobStore(path.join(dataDir, "blobs"));
    try {
      const services = createServices({ config, database, blobs, converter });
      expect(await services.billing.creditUsage({ id: 1, created: 0 }, { intervalBegin: 0 })).toMatchObject({ callsDurationMinutes: 2, creditsUsed: 2 });
      const file = await services.recordings.mp3(1, recording.id);
      const stored = Buffer.concat(await (await blobs.get(file.blobKey)).toArray());
      expect(createHash("sha256").update(stored).digest("hex")).toBe(recording.hash);
    } finally {
      await converter.close();
      await database.close();
    }
  });

  it("says what is wrong with a bad call", async () => {
    const base = ["call", "ingest", "--account", "1", "--from", "12135551189", "--to", "13105550100", "--duration", "10"];
    expect(await runCli([...base, "--start", "tomorrow"], env)).toMatchObject({
      code: 2,
      stderr: 'switchboard: --start: "tomorrow" is not unix milliseconds or an ISO 8601 time such as 2026-11-28T09:30:00Z\n',
    });
    expect(await runCli([...base, "--start", "2999-01-01T00:00:00Z"], env)).toMatchObject({
      code: 2,
      stderr: "switchboard: startTime: 32472144000000 is in the future\n",
    });
    expect(await runCli([...base, "--start", "1764300000000", "--recording", "/nonexistent.wav"], env)).toMatchObject({
      code: 2,
      stderr: "switchboard: --recording: /nonexistent.wav is not a file\n",
    });
  });

  it("reports a sent call's and a sent text's outcome once, and says when another would change it", async () => {
    const config = loadConfig({ dataDir, logLevel: "silent" }, {});
    const database = openDatabase({ dataDir });
    const converter = new AudioConverter();
    let callId: number;
    let textId: number;
    try {
      const services = createServices({ config, database, blobs: new FsBlobStore(path.join(dataDir, "blobs")), converter });
      await services.callerIds.sendCode(1, "12135551189");
      const [verification] = (await services.outbox.list({ type: "callerIdVerification" }, { limit: 1, offset: 0 })).items;
      expect(await services.callerIds.verify(1, "12135551189", verification!.code!)).toBe(true);
      await services.billing.addCredits(1, 10);
      callId = (await services.callSender.send(1, [{ phoneNumber: "13105550100", liveMessage: "hi" }], {}, "http://localhost")).items[0]!.id;
      textId = (await services.textSender.send(1, [{ phoneNumber: "13105550100", message: "hi" }], {}, "http://localhost")).items[0]!.id;
    } finally {
      await converter.close();
      await database.close();
    }

    // Unanswered: a call that lasted would have started before its account, created moments ago.
    const args = ["call", "outcome", "--id", String(callId), "--result", "NO_ANS", "--duration", "0", "--finish-time", String(Date.now())];
    const first = await runCli(args, env);
    expect(first.stderr).toBe("");
    expect(first).toMatchObject({ code: 0, stdout: `call ${callId}: NO_ANS, 0 s, 0 minute(s) charged, 0 credit(s)\n` });
    expect(await runCli(args, env)).toMatchObject({ code: 0, stdout: `call ${callId}: NO_ANS, 0 s, 0 minute(s) charged, 0 credit(s)\n` });
    expect(await runCli(["call", "outcome", "--id", String(callId), "--result", "BUSY", "--duration", "0"], env)).toMatchObject({
      code: 3,
      stderr: `switchboard: call ${callId} already finished with result NO_ANS after 0 s; its outcome cannot change\n`,
    });
    expect((await runCli(["call", "outcome", "--id", String(callId), "--result", "GREAT", "--duration", "1"], env)).code).not.toBe(0);
    expect(await runCli(["text", "outcome", "--id", String(textId), "--result", "SENT"], env)).toMatchObject({ code: 0, stdout: `text ${textId}: SENT, 1 text(s) charged, 1 credit(s)\n` });
  });
});
