import { Worker } from "node:worker_threads";
import { BadRequest } from "../errors.js";
import type { ConvertOp, ConvertRequest, ConvertResponse } from "./converter-worker.js";

interface Job {
  resolve: (data: Buffer) => void;
  reject: (err: Error) => void;
}
interface PoolWorker {
  worker: Worker;
  jobs: Map<number, Job>;
}

// Under vitest/tsx this module is the .ts source. Node 20 cannot start a .ts worker, and tsx's
// `--import tsx` hooks skip worker threads, so a dev-time worker registers tsx itself first
// ("tsx/esm/api" resolves from the working directory, the project root for vitest and npx tsx).
function startWorker(): Worker {
  const self = import.meta.url;
  if (!self.endsWith(".ts")) return new Worker(new URL("./converter-worker.js", self));
  const entry = new URL("./converter-worker.ts", self).href;
  return new Worker(`import("tsx/esm/api").then((tsx) => tsx.register()).then(() => import("${entry}"))`, { eval: true });
}

function revive({ name, message, developerMessage }: { name: string; message: string; developerMessage?: string }): Error {
  if (name === "BadRequest") return new BadRequest(message, developerMessage);
  return Object.assign(new Error(message), { name });
}

/** What the services convert with: the pool below, or the same measured (src/metrics.ts). */
export type Converter = Pick<AudioConverter, "wavToMp3" | "mp3ToWav">;

/**
 * WAV <-> MP3 conversion on a small pool of worker threads, so encoding never blocks the event
 * loop. Workers start on first use and do not keep the process alive while idle.
 */
export class AudioConverter {
  private readonly size: number;
  private readonly pool: PoolWorker[] = [];
  private nextId = 1;
  private closed = false;

  constructor(opts: { workers?: number } = {}) {
    this.size = Math.max(1, opts.workers ?? 1);
  }

  /** The input is copied, never detached: callers commonly keep the original upload too. */
  wavToMp3(buf: Uint8Array): Promise<Buffer> {
    return this.run("wavToMp3", buf);
  }

  mp3ToWav(buf: Uint8Array): Promise<Buffer> {
    return this.run("mp3ToWav", buf);
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool.splice(0);
    for (const pw of pool) this.fail(pw, new Error("AudioConverter closed"));
    await Promise.all(pool.map((pw) => pw.worker.terminate()));
  }

  private run(op: ConvertOp, buf: Uint8Array): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error("AudioConverter closed"));
    const pw = this.pick();
    const id = this.nextId++;
    const data = new Uint8Array(buf); // a private copy we can transfer instead of cloning
    return new Promise<Buffer>((resolve, reject) => {
      pw.jobs.set(id, { resolve, reject });
      pw.worker.ref();
      pw.worker.postMessage({ id, op, data } satisfies ConvertRequest, [data.buffer]);
    });
  }

  private pick(): PoolWorker {
    const idle = this.pool.find((pw) => pw.jobs.size === 0);
    if (idle) return idle;
    if (this.pool.length < this.size) return this.spawn();
    return this.pool.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
  }

  private spawn(): PoolWorker {
    const worker = startWorker();
    const pw: PoolWorker = { worker, jobs: new Map() };
    worker.unref();
    worker.on("message", (msg: ConvertResponse) => {
      const job = pw.jobs.get(msg.id);
      if (!job) return;
      pw.jobs.delete(msg.id);
      if (pw.jobs.size === 0) worker.unref();
      if ("error" in msg) job.reject(revive(msg.error));
      else job.resolve(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength));
    });
    // A crashed worker takes its queued jobs with it; the next call spawns a fresh one.
    const retire = (err: Error) => {
      const i = this.pool.indexOf(pw);
      if (i >= 0) this.pool.splice(i, 1);
      this.fail(pw, err);
    };
    worker.on("error", retire);
    worker.on("exit", (code) => retire(new Error(`audio converter worker exited with code ${code}`)));
    this.pool.push(pw);
    return pw;
  }

  private fail(pw: PoolWorker, err: Error): void {
    for (const job of pw.jobs.values()) job.reject(err);
    pw.jobs.clear();
  }
}
