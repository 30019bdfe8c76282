/**
 * Background jobs of one service: each runs now and then every `intervalMs`, one at a time across
 * all of them (a run never overlaps another, however slow), until `stop`, which waits for the run
 * in progress. A run that throws is logged as `what` failed, and the job runs again at its next
 * time. The timers never keep the process alive.
 */
export class Periodic {
  private readonly timers: NodeJS.Timeout[] = [];
  private running = Promise.resolve();

  constructor(private readonly log: { warn(details: object, message: string): void }) {}

  every(intervalMs: number, what: string, job: () => Promise<unknown>): void {
    const run = () =>
      (this.running = this.running.then(job).then(
        () => undefined,
        (error: unknown) => this.log.warn({ err: error }, `${what} failed; will try again`),
      ));
    run();
    const timer = setInterval(run, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await this.running;
  }
}
