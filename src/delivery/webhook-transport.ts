import { createHmac } from "node:crypto";
import { secondsSince, type Metrics } from "../metrics.js";
import type { Delivery } from "../services/call-outbox.js";
import type { CallTransport } from "./call-transport.js";

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: signing the timestamp with the body
 * lets a receiver refuse replays of an old request (README shows how to verify it).
 */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/**
 * The JSON a delivery is POSTed as. A verification call keeps the fields it always had; a call or
 * a text carries what was sent (README, "Calls and texts").
 */
export function webhookBody(delivery: Delivery): string {
  if (delivery.type === "callerIdVerification") {
    return JSON.stringify({
      id: delivery.id,
      type: delivery.type,
      accountId: delivery.accountId,
      to: delivery.to,
      code: delivery.code,
      message: delivery.message,
      attempt: delivery.attempt,
      created: delivery.created,
      expiresAt: delivery.codeExpiresAt,
    });
  }
  return JSON.stringify({ id: delivery.id, type: delivery.type, ...delivery.payload, attempt: delivery.attempt });
}

/** POSTs each delivery as JSON to the operator's URL; any 2xx within the timeout is delivered. */
export class WebhookCallTransport implements CallTransport {
  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly timeoutMs: number,
    private readonly metrics?: Metrics,
  ) {}

  async place(delivery: Delivery): Promise<undefined> {
    const body = webhookBody(delivery);
    // Wall-clock time, not the service clock: the receiver compares it with its own clock.
    const timestamp = Math.floor(Date.now() / 1000);
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    const start = performance.now();
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "switchboard",
          "x-switchboard-call-id": delivery.id,
          "x-switchboard-signature": webhookSignature(this.secret, timestamp, body),
        },
        body,
        // A redirect would not carry the POST and its signature along as sent: not delivered.
        redirect: "manual",
        signal,
      });
    } catch (error) {
      this.metrics?.webhookRequest("unreachable", secondsSince(start));
      throw new Error(describeFailure(error, this.timeoutMs));
    }
    this.metrics?.webhookRequest(response.status >= 200 && response.status < 300 ? "accepted" : "refused", secondsSince(start));
    if (response.status >= 200 && response.status < 300) {
      await response.body?.cancel();
      return undefined;
    }
    const text = await response.text().catch(() => "");
    throw new Error(`webhook answered HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`);
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if ((error as Error).name === "TimeoutError") return `webhook did not answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: { message?: string } }).cause;
  return `webhook request failed: ${cause?.message ?? (error as Error).message}`;
}
