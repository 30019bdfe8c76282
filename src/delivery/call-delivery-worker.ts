import type { Config } from "../config.js";
import type { CallOutbox, QueuedCall } from "../services/call-outbox.js";
import { LogCallTransport, type CallTransport, type DeliveryLog } from "./call-transport.js";
import { WebhookCallTransport } from "./webhook-transport.js";

export interface CallDeliveryOptions {
  /** Attempts per call, the first included, before it is FAILED. */
  maxAttempts: number;
  /** How long a claimed call is left to its worker: longer than any attempt can take. */
  leaseMs: number;
  pollIntervalMs: number;
  batchSize: number;
  random: () => number;
}

const firstRetryMs = 2_000;
const longestRetryMs = 5 * 60_000;

/**
 * Exponential backoff (2 s, 4 s, 8 s … capped at 5 min) with jitter: each delay is drawn from its
 * upper half, so receivers that failed together do not all come back at the same instant.
 */
export function retryDelayMs(attempt: number, random: () => number): number {
  const ceiling = Math.min(longestRetryMs, firstRetryMs * 2 ** (attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/**
 * Delivers the outbox: claims due calls, hands them to the transport, and records the outcome.
 * A call is marked SENT only after the transport accepted it, so a crash between the two means it
 * is placed again after its lease: at least once. `serve` runs it on a timer; tests call
 * `deliverDue()` and `eraseExpiredCodes()` themselves.
 */
export class CallDeliveryWorker {
  private running = false;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;

  constructor(
    private readonly outbox: CallOutbox,
    private readonly transport: CallTransport,
    private readonly log: DeliveryLog,
    private readonly options: CallDeliveryOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.pass = this.poll();
  }

  /** Stops polling and waits for the calls in flight (each bounded by the transport's timeout). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.pass;
  }

  /** Claims one batch of due calls and delivers them; returns how many it attempted. */
  async deliverDue(): Promise<number> {
    const calls = await this.outbox.claimDue(this.options.batchSize, this.options.leaseMs);
    await Promise.all(calls.map((call) => this.deliver(call)));
    return calls.length;
  }

  eraseExpiredCodes(): Promise<number> {
    return this.outbox.eraseExpiredCodes();
  }

  private async poll(): Promise<void> {
    try {
      await this.eraseExpiredCodes();
      while (this.running && (await this.deliverDue()) === this.options.batchSize);
    } catch (error) {
      this.log.error({ err: error }, "call delivery: could not read or update the outbox; will retry");
    }
    if (!this.running) return;
    this.timer = setTimeout(() => (this.pass = this.poll()), this.options.pollIntervalMs);
    this.timer.unref();
  }

  private async deliver(call: QueuedCall): Promise<void> {
    let failure: string | undefined;
    try {
      await this.transport.place(call);
    } catch (error) {
      failure = (error as Error).message;
    }
    const details = { callId: call.id, to: call.to, attempt: call.attempt };
    if (failure === undefined) {
      await this.outbox.markSent(call);
    } else if (call.attempt >= this.options.maxAttempts) {
      this.log.error({ ...details, error: failure }, `verification call failed after ${call.attempt} attempts`);
      await this.outbox.markFailed(call, failure);
    } else {
      const delay = retryDelayMs(call.attempt, this.options.random);
      this.log.warn({ ...details, error: failure }, `verification call attempt failed; retrying in ${Math.ceil(delay / 1000)} s`);
      await this.outbox.markRetry(call, failure, delay);
    }
  }
}

/** The worker `config` asks for: calls POSTed to the webhook when one is set, else logged. */
export function createCallDeliveryWorker(config: Config["calls"], outbox: CallOutbox, log: DeliveryLog): CallDeliveryWorker {
  const { webhookUrl, webhookSecret, webhookTimeoutMs, maxAttempts } = config;
  const transport =
    webhookUrl && webhookSecret ? new WebhookCallTransport(webhookUrl, webhookSecret, webhookTimeoutMs) : new LogCallTransport(log);
  return new CallDeliveryWorker(outbox, transport, log, {
    maxAttempts,
    leaseMs: webhookTimeoutMs + 60_000,
    pollIntervalMs: 1_000,
    batchSize: 20,
    random: Math.random,
  });
}
