import type { Config } from "../config.js";
import type { Metrics } from "../metrics.js";
import type { Accepted, CallOutbox, Delivery } from "../services/call-outbox.js";
import type { CallService } from "../services/calls.js";
import type { TextService } from "../services/texts.js";
import type { CallTransport, DeliveryLog } from "./call-transport.js";
import type { SimulatedPlatform } from "./simulator.js";

export interface CallDeliveryOptions {
  /** Attempts per delivery, the first included, before it is FAILED. */
  maxAttempts: number;
  /** How long a claimed delivery is left to its worker: longer than any attempt can take. */
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

/** Where a call or text that could never be delivered is finished (UNDIALED, charged nothing). */
export interface UndeliverableOutcomes {
  calls: Pick<CallService, "reportOutcome">;
  texts: Pick<TextService, "reportOutcome">;
}

const what: Record<Delivery["type"], string> = {
  callerIdVerification: "verification call",
  call: "call",
  text: "text",
  simulatedCallOutcome: "simulated call outcome",
  simulatedTextOutcome: "simulated text outcome",
};

/**
 * Delivers the outbox: claims due deliveries, hands them to the transport (or, for the
 * simulator's pending outcomes, reports them), and records the outcome. A delivery is marked SENT
 * only after it was accepted, so a crash between the two means it is made again after its lease:
 * at least once. `serve` runs it on a timer; tests call `deliverDue()` and `eraseExpiredCodes()`.
 */
export class CallDeliveryWorker {
  private running = false;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;

  constructor(
    private readonly outbox: CallOutbox,
    private readonly transport: CallTransport,
    private readonly simulator: SimulatedPlatform,
    private readonly undeliverable: UndeliverableOutcomes,
    private readonly log: DeliveryLog,
    private readonly options: CallDeliveryOptions,
    /** Housekeeping each pass does first (expired codes, expired Idempotency-Keys). */
    private readonly sweep: () => Promise<unknown> = async () => undefined,
    private readonly metrics?: Metrics,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.pass = this.poll();
  }

  /** Stops polling and waits for the deliveries in flight (each bounded by the transport's timeout). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.pass;
  }

  /** Claims one batch of due deliveries and makes them; returns how many it attempted. */
  async deliverDue(): Promise<number> {
    const deliveries = await this.outbox.claimDue(this.options.batchSize, this.options.leaseMs);
    const accepted: Accepted[] = [];
    await Promise.all(
      deliveries.map(async (delivery) => {
        const failure = await this.attempt(delivery, accepted);
        if (failure === undefined) return;
        await this.failed(delivery, failure).catch((error: unknown) =>
          this.log.error({ err: error, deliveryId: delivery.id }, `could not record the failed ${what[delivery.type]}; it is retried after its lease`),
        );
      }),
    );
    // One transaction for the batch: a commit per delivery would bound the rate by the disk.
    await this.outbox.markSent(accepted);
    for (const { delivery } of accepted) this.metrics?.delivery(delivery.type, "delivered");
    return deliveries.length;
  }

  eraseExpiredCodes(): Promise<number> {
    return this.outbox.eraseExpiredCodes();
  }

  private async poll(): Promise<void> {
    try {
      await this.eraseExpiredCodes();
      await this.sweep();
      while (this.running && (await this.deliverDue()) === this.options.batchSize);
    } catch (error) {
      this.log.error({ err: error }, "call delivery: could not read or update the outbox; will retry");
    }
    if (!this.running) return;
    this.timer = setTimeout(() => (this.pass = this.poll()), this.options.pollIntervalMs);
    this.timer.unref();
  }

  /** Makes one delivery; returns why it failed, if it did. */
  private async attempt(delivery: Delivery, accepted: Accepted[]): Promise<string | undefined> {
    try {
      if (delivery.type === "simulatedCallOutcome" || delivery.type === "simulatedTextOutcome") {
        await this.simulator.finish(delivery);
        accepted.push({ delivery });
      } else {
        accepted.push({ delivery, followUp: await this.transport.place(delivery) });
      }
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  private async failed(delivery: Delivery, failure: string): Promise<void> {
    const details = { deliveryId: delivery.id, type: delivery.type, to: delivery.to, attempt: delivery.attempt };
    if (delivery.attempt < this.options.maxAttempts) {
      const delay = retryDelayMs(delivery.attempt, this.options.random);
      this.log.warn({ ...details, error: failure }, `${what[delivery.type]} attempt failed; retrying in ${Math.ceil(delay / 1000)} s`);
      await this.outbox.markRetry(delivery, failure, delay);
      this.metrics?.delivery(delivery.type, "retried");
      return;
    }
    this.log.error({ ...details, error: failure }, `${what[delivery.type]} failed after ${delivery.attempt} attempts`);
    if (!(await this.outbox.markFailed(delivery, failure))) return;
    this.metrics?.delivery(delivery.type, "failed");
    // A call or text the platform never took was never placed: it finishes UNDIALED, for nothing.
    if (delivery.type === "call") await this.undeliverable.calls.reportOutcome(delivery.actionId!, { result: "UNDIALED", durationSeconds: 0 });
    if (delivery.type === "text") await this.undeliverable.texts.reportOutcome(delivery.actionId!, { result: "UNDIALED" });
  }
}

/** The transport `config` asks for: the webhook when one is set, else the sandbox simulator. */
export function deliveryOptions(config: Config["calls"]): CallDeliveryOptions {
  return {
    maxAttempts: config.maxAttempts,
    leaseMs: config.leaseMs,
    pollIntervalMs: 1_000,
    batchSize: deliveryBatchSize,
    random: Math.random,
  };
}

/** Deliveries claimed and made at once (measured in bench/calls.ts). */
export const deliveryBatchSize = 100;
