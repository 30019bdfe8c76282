import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { vi } from "vitest";
import { basic } from "./app.js";
import { startCli } from "./cli.js";

/** A `switchboard serve` process, its output so far, and what its banner told. */
export interface ServedProcess {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves once the output (banner or log lines) contains `text`. */
  waitFor(text: string): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  baseUrl: string;
  /** Authorization of the demo API credential, if this process created the demo account. */
  demoApi?: string;
}

/** Starts `switchboard serve` on an ephemeral port and resolves once it serves (or rejects if it exits first). */
export async function startServed(args: string[], env: Record<string, string>): Promise<ServedProcess> {
  const child = startCli(["serve", "--port", "0", ...args], env);
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  await Promise.race([
    vi.waitFor(() => {
      if (!/serving the CallFire API v2 at (\S+)\/v2 /.test(output)) throw new Error("not serving yet");
    }, { timeout: 60_000, interval: 50 }),
    exited.then(() => {
      throw new Error(`switchboard serve exited before serving:\n${output}`);
    }),
  ]);
  // The banner is one write: once its first line is there, all of it is.
  const baseUrl = /serving the CallFire API v2 at (\S+)\/v2 /.exec(output)![1]!;
  const demo = /curl -u (\S+):(\S+) /.exec(output);
  return {
    child,
    output: () => output,
    waitFor: (text) => vi.waitFor(() => {
      if (!output.includes(text)) throw new Error(`no "${text}" in:\n${output}`);
    }, { timeout: 60_000, interval: 50 }),
    exited,
    baseUrl,
    demoApi: demo ? basic(demo[1]!, demo[2]!) : undefined,
  };
}
