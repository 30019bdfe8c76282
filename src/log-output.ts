import { writeSync } from "node:fs";

/** What is held while the descriptor cannot take it (a reader that stopped); beyond it lines are dropped. */
const maxPendingBytes = 16 * 1024 * 1024;
/** How soon a write refused with EAGAIN (a full pipe) is tried again. */
const retryMs = 20;
/** How long the process, exiting, waits for a full pipe to take its last lines. */
const exitWaitMs = 2_000;

/**
 * The log's way out (standard output): the lines written during one turn of the event loop go out
 * in one write(2) when the turn ends, instead of one synchronous write each. On a small request
 * that write was most of the access line's cost (bench/auth.sh): about 4 µs a line, against 0.2 µs
 * batched. pino's asynchronous SonicBoom batches too, but measures the UTF-8 length of its whole
 * growing buffer on every line, which cost as much as the writes it saved.
 *
 * Lines reach the descriptor by the end of the turn that wrote them, and whatever is still held
 * when the process exits (a signal's shutdown, an uncaught error) is written then: only a kill -9
 * can lose the last turn's lines. A pipe whose reader falls behind gets the rest as it drains; if
 * it stops reading, lines beyond 16 MiB are dropped rather than held until memory runs out, and a
 * line saying how many is written once it reads again.
 */
export class BatchedOutput {
  private lines: string[] = [];
  private unwritten: Buffer | undefined;
  private pendingBytes = 0;
  private dropped = 0;
  private scheduled = false;
  private failed = false;

  constructor(private readonly fd: number) {
    process.on("exit", () => this.flush(Date.now() + exitWaitMs));
  }

  write(line: string): void {
    if (this.failed) return;
    if (this.pendingBytes + line.length > maxPendingBytes) {
      this.dropped++;
      return;
    }
    this.lines.push(line);
    this.pendingBytes += line.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * Writes everything held, as far as the descriptor takes it; with a deadline (the process is
   * exiting, nothing later will write) a full pipe is waited for until then.
   */
  flush(deadline?: number): void {
    this.scheduled = false;
    if (this.dropped > 0) {
      this.lines.push(`${JSON.stringify({ level: 40, time: Date.now(), msg: `${this.dropped} log lines dropped: standard output was not being read` })}\n`);
      this.dropped = 0;
    }
    if (this.lines.length === 0 && !this.unwritten) return;
    const fresh = Buffer.from(this.lines.join(""));
    let bytes = this.unwritten ? Buffer.concat([this.unwritten, fresh]) : fresh;
    this.lines = [];
    this.unwritten = undefined;
    try {
      while (bytes.length > 0) {
        try {
          bytes = bytes.subarray(writeSync(this.fd, bytes));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EAGAIN" || deadline === undefined || Date.now() >= deadline) throw error;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, retryMs);
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN" && deadline === undefined) {
        this.unwritten = bytes;
        this.scheduled = true;
        setTimeout(() => this.flush(), retryMs).unref();
      } else {
        // Closed or gone (EPIPE, EBADF): there is nowhere left to say so.
        this.failed = true;
      }
    }
    this.pendingBytes = this.unwritten?.length ?? 0;
  }
}
