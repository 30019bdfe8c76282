import type { FastifyBaseLogger, FastifyInstance } from "fastify";

export interface Stoppable {
  app: FastifyInstance;
  /** /readyz answers 503, responses carry Connection: close (idle keep-alive connections stay open until the listener closes). */
  startDraining(): void;
  /** Removes the temp files of uploads still being written (the blob store's abandonWrites). */
  abandonUploads(): Promise<void>;
  /** Closes what the app does not: the converter, the database. */
  release(): Promise<void>;
  log: FastifyBaseLogger;
}

export interface ShutdownTiming {
  /** How long new connections are still accepted after the signal (for load balancers to notice /readyz). */
  delayMs: number;
  /** Then how long requests in flight may take before they are cut. */
  graceMs: number;
}

/**
 * Stops on SIGTERM or SIGINT, in the order the README's "Stopping" documents (rolling restarts
 * rely on it):
 * 1. the signal is logged, /readyz answers 503, every response carries `Connection: close`;
 * 2. for `delayMs` connections are still accepted and served, so a load balancer polling /readyz
 *    takes the node out before anything is refused; idle keep-alive connections stay open, since
 *    closing one while a balancer sends a request on it would fail that request;
 * 3. the listener closes, idle connections with it, and requests in flight get `graceMs` to finish;
 * 4. whatever still runs is cut, temp files of unfinished uploads are removed, the exit is logged
 *    and the process exits: 0 if every request finished, 1 if some were cut.
 * A second signal at any point goes straight to 4.
 */
export function stopOnSignals(server: Stoppable, timing: ShutdownTiming): void {
  const { app, log } = server;
  let stopping = false;
  let exiting = false;

  const exit = async (cut: number, why: string) => {
    if (exiting) return;
    exiting = true;
    app.server.closeAllConnections();
    // Neither an unreachable S3 (aborting uploads) nor queries of cut requests (closing the
    // database) may hold the exit hostage.
    await withinMs(server.abandonUploads(), 5_000);
    if (cut > 0) log.warn({ cut }, `stopped: ${why}; ${cut} request(s) cut, temp files of unfinished uploads removed`);
    else log.info("stopped: every request finished");
    await withinMs(server.release(), 2_000);
    process.exit(cut > 0 ? 1 : 0);
  };

  const openConnections = () => new Promise<number>((resolve) => app.server.getConnections((error, count) => resolve(error ? 0 : count)));

  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, `${signal} again: stopping at once`);
      await exit(await openConnections(), `second signal ${signal}`);
      return;
    }
    stopping = true;
    log.info(
      { signal, delaySeconds: timing.delayMs / 1000, graceSeconds: timing.graceMs / 1000 },
      `stopping on ${signal}: /readyz answers 503; requests in flight have ${(timing.delayMs + timing.graceMs) / 1000} s`,
    );
    server.startDraining();
    if (timing.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, timing.delayMs));
    if (exiting) return;
    const deadline = setTimeout(async () => exit(await openConnections(), `requests still running ${timing.graceMs / 1000} s after ${signal}`), timing.graceMs);
    // close() stops accepting, waits for the requests in flight, then runs the onClose hooks.
    await app.close();
    clearTimeout(deadline);
    await exit(0, "");
  };
  process.on("SIGINT", (signal) => void stop(signal));
  process.on("SIGTERM", (signal) => void stop(signal));
}

/** Waits for `work` (ignoring its failure) or `ms`, whichever comes first. */
function withinMs(work: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([work.catch(() => {}), new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}
