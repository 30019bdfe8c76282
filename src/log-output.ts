import { writeSync } from "node:fs";

/**
 * How much is held while the descriptor cannot take it (a reader that stopped), in string length
 * (bytes, for the ASCII lines pino writes); beyond it lines are dropped.
 */
const maxHeldLength = 16 * 1024 * 1024;
/** How soon a write refused with EAGAIN (a full pipe) is tried again. */
const retryMs = 20;
/** How long the process, exiting, waits for a full pipe whose reader has stopped taking anything. */
const exitStallMs = 2_000;
/** Something to Atomics.wait on: a synchronous sleep for the exiting process. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * The log's way out (standard output): the lines written during one turn of the event loop go out
 * in one write(2) when the turn ends, instead of one synchronous write each. On a small request
 * that write was most of the access line's cost (bench/auth.sh): about 4 µs a line, against 0.2 µs
 * batched. pino's asynchronous SonicBoom batches too, but measures the UTF-8 length of its whole
 * growing buffer on every line, which cost as much as the writes it saved.
 *
 * Lines reach the descriptor by the end of the turn that wrote them, and whatever is still held
 * when the process exits (a signal's shutdown, an uncaught error) is written then, for as long as
 * the reader keeps taking it: only a kill -9, or a reader that takes nothing for 2 s while the
 * process exits, can lose the last lines. A pipe whose reader falls behind gets the rest as it
 * drains; if it stops reading, lines beyond 16 MiB are dropped rather than held until memory runs
 * out, each run of dropped lines followed by one saying how many.
 */
export class BatchedOutput {
  private lines: string[] = [];
  private unwritten: Buffer | undefined;
  private heldLength = 0;
  private dropped = 0;
  private scheduled = false;
  private failed = false;

  constructor(private readonly fd: number) {
    process.on("exit", () => this.flush(true));
  }

  write(line: string): void {
    if (this.failed) return;
    if (this.heldLength + line.length > maxHeldLength) {
      this.dropped++;
      return;
    }
    this.lines.push(line);
    this.heldLength += line.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * Writes everything held, as far as the descriptor takes it. When the process is exiting
   * (nothing later will write), a full pipe is waited for as long as its reader keeps taking
   * bytes, and given up on once it has taken nothing for 2 s.
   */
  flush(exiting = false): void {
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
    let progressed = Date.now();
    while (bytes.length > 0) {
      let code: string | undefined;
      try {
        bytes = bytes.subarray(writeSync(this.fd, bytes));
        progressed = Date.now();
        continue;
      } catch (error) {
        code = (error as NodeJS.ErrnoException).code;
      }
      if (code !== "EAGAIN") {
        // Closed or gone (EPIPE, EBADF): there is nowhere left to say so.
        this.failed = true;
      } else if (!exiting) {
        // A full pipe: the rest waits for the reader, ahead of what comes meanwhile.
        this.unwritten = bytes;
        this.scheduled = true;
        setTimeout(() => this.flush(), retryMs).unref();
      } else if (Date.now() - progressed < exitStallMs) {
        Atomics.wait(sleeper, 0, 0, retryMs);
        continue;
      }
      break;
    }
    this.heldLength = this.unwritten?.length ?? 0;
  }
}
