import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";

const writer = new URL("./fixtures/batched-output-writer.ts", import.meta.url).pathname;

/** Runs the writer with its standard output on a pipe; the pipe is not read for `stallMs` first. */
async function run(count: number, perTurn: number, ending: "exit" | "throw", stallMs = 0): Promise<{ lines: { n?: number; msg?: string }[]; code: number | null }> {
  const child = spawn(process.execPath, ["--import", "tsx", writer, String(count), String(perTurn), ending], { stdio: ["ignore", "pipe", "pipe"] });
  const chunks: Buffer[] = [];
  // Listening before pausing: a child's output that nobody listens to is discarded when it exits.
  child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  child.stdout.pause();
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  await sleep(stallMs);
  child.stdout.resume();
  const code = await exited;
  const text = Buffer.concat(chunks).toString();
  return { lines: text.split("\n").filter(Boolean).map((line) => JSON.parse(line)), code };
}

describe("BatchedOutput (the log's standard output)", () => {
  it("writes every line, in order, including those held when the process exits", async () => {
    const { lines, code } = await run(5000, 700, "exit");
    expect(code).toBe(0);
    expect(lines.map((line) => line.n)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it("writes the held lines when an uncaught error ends the process", async () => {
    const { lines, code } = await run(1000, 300, "throw");
    expect(code).toBe(1);
    expect(lines.map((line) => line.n)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it("waits for a pipe that is not being read, and writes everything once it is", async () => {
    // About 2.3 MB: far more than a pipe holds (64 KiB), far less than what is held before dropping.
    const { lines, code } = await run(10_000, 500, "exit", 1500);
    expect(code).toBe(0);
    expect(lines.map((line) => line.n)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  });

  it("drops lines beyond 16 MiB while the pipe is not read, and says how many", async () => {
    // About 23 MB written while nothing reads: what does not fit is dropped, the rest arrives in order.
    const { lines, code } = await run(100_000, 5000, "exit", 1000);
    expect(code).toBe(0);
    const numbers = lines.flatMap((line) => (line.n === undefined ? [] : [line.n]));
    // A notice follows each run of dropped lines.
    const notices = lines.filter((line) => line.msg?.endsWith("log lines dropped: standard output was not being read"));
    const dropped = notices.reduce((sum, notice) => sum + Number(notice.msg!.split(" ")[0]), 0);
    expect(dropped).toBeGreaterThan(0);
    expect(numbers.length + dropped).toBe(100_000);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  });
});
