import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";

const writer = new URL("./fixtures/batched-output-writer.ts", import.meta.url).pathname;

/** Runs the writer with its standard output on a pipe; the pipe is not read for `stallMs` first ("exit": until the writer has exited). */
async function run(count: number, perTurn: number, ending: "exit" | "throw", stallMs: number | "exit" = 0): Promise<{ text: string; code: number | null }> {
  const child = spawn(process.execPath, ["--import", "tsx", writer, String(count), String(perTurn), ending], { stdio: ["ignore", "pipe", "pipe"] });
  const chunks: Buffer[] = [];
  // Listening before pausing: a child's output that nobody listens to is discarded when it exits.
  child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  child.stdout.pause();
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const closed = new Promise((resolve) => child.on("close", resolve));
  await (stallMs === "exit" ? exited : sleep(stallMs));
  child.stdout.resume();
  const code = await exited;
  await closed;
  return { text: Buffer.concat(chunks).toString(), code };
}

async function runLines(...args: Parameters<typeof run>): Promise<{ lines: { n?: number; msg?: string }[]; code: number | null }> {
  const { text, code } = await run(...args);
  return { lines: text.split("\n").filter(Boolean).map((line) => JSON.parse(line)), code };
}

describe("BatchedOutput (the log's standard output)", () => {
  it("writes every line, in order, including those held when the process exits", async () => {
    const { lines, code } = await runLines(5000, 700, "exit");
    expect(code).toBe(0);
    expect(lines.map((line) => line.n)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it("writes the held lines when an uncaught error ends the process", async () => {
    const { lines, code } = await runLines(1000, 300, "throw");
    expect(code).toBe(1);
    expect(lines.map((line) => line.n)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it("waits for a pipe that is not being read, and writes everything once it is", async () => {
    // About 2.3 MB: far more than a pipe holds (64 KiB), far less than what is held before dropping.
    const { lines, code } = await runLines(10_000, 500, "exit", 1500);
    expect(code).toBe(0);
    expect(lines.map((line) => line.n)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  });

  it("drops lines beyond 16 MiB while the pipe is not read, and says how many", async () => {
    // About 23 MB written while nothing reads: what does not fit is dropped, the rest arrives in order.
    const { lines, code } = await runLines(100_000, 5000, "exit", 1000);
    expect(code).toBe(0);
    const numbers = lines.flatMap((line) => (line.n === undefined ? [] : [line.n]));
    // A notice follows each run of dropped lines.
    const notices = lines.filter((line) => line.msg?.endsWith("log lines dropped: standard output was not being read"));
    const dropped = notices.reduce((sum, notice) => sum + Number(notice.msg!.split(" ")[0]), 0);
    expect(dropped).toBeGreaterThan(0);
    expect(numbers.length + dropped).toBe(100_000);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  });

  it("exits when standard output is never read, after giving up on the lines it holds", async () => {
    const { text, code } = await run(20_000, 5000, "exit", "exit");
    expect(code).toBe(0);
    // What the pipe took before the reader was gone for good: the first lines, in order.
    const first = text.split("\n")[0]!;
    expect(JSON.parse(first)).toMatchObject({ n: 0 });
  });
});
