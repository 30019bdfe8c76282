import { Counter, Histogram, Registry } from "prom-client";
import type { Converter } from "./audio/audio-converter.js";
import type { DeliveryType } from "./db/tables.js";

// What an operator watches besides HTTP (src/http/operations.ts serves them at /metrics). Each is
// recorded where it happens, on paths that are rare next to requests (a delivery, a failed login,
// an upload, a conversion), so prom-client's label lookup on each is no cost worth avoiding; the
// path every request takes records only the duration histogram (src/http/duration-histogram.ts).
// Gauges read from the database are computed on scrape (src/http/database-gauges.ts).

export type DeliveryOutcome = "delivered" | "retried" | "failed";
export type WebhookOutcome = "accepted" | "refused" | "unreachable";
export type AuthenticatedApi = "v2" | "admin" | "console" | "metrics";
export type Throttle = "login" | "caller_id_resend" | "caller_id_hourly";
export type UploadKind = "media" | "recording";
export type Conversion = "wav_to_mp3" | "mp3_to_wav";
export type RetentionKind = "recording" | "media" | "outbox";

const secondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Metrics {
  readonly registry = new Registry();
  private readonly registers = [this.registry];

  private readonly deliveries = new Counter({
    name: "switchboard_deliveries_total",
    help: "Delivery attempts from the outbox by type and outcome: delivered, retried (failed, to be tried again) or failed (given up)",
    labelNames: ["type", "outcome"] as const,
    registers: this.registers,
  });

  private readonly webhookDuration = new Histogram({
    name: "switchboard_webhook_request_duration_seconds",
    help: "Webhook requests by outcome: accepted (2xx), refused (another status) or unreachable (network error or timeout)",
    labelNames: ["outcome"] as const,
    buckets: secondsBuckets,
    registers: this.registers,
  });

  private readonly authFailures = new Counter({
    name: "switchboard_auth_failures_total",
    help: "Requests refused with 401 (missing, malformed or wrong credentials, token or session) by API",
    labelNames: ["api"] as const,
    registers: this.registers,
  });

  private readonly throttled = new Counter({
    name: "switchboard_throttled_total",
    help: "Requests refused with 429 by throttle: login (a locked-out username), caller_id_resend, caller_id_hourly",
    labelNames: ["throttle"] as const,
    registers: this.registers,
  });

  private readonly uploads = new Counter({
    name: "switchboard_uploads_total",
    help: "Files stored from uploads (media files, call recordings)",
    labelNames: ["kind"] as const,
    registers: this.registers,
  });

  private readonly uploadBytes = new Counter({
    name: "switchboard_upload_bytes_total",
    help: "Bytes stored from uploads (a recording's as the MP3 stored)",
    labelNames: ["kind"] as const,
    registers: this.registers,
  });

  private readonly uploadDuration = new Histogram({
    name: "switchboard_upload_duration_seconds",
    help: "Time to receive, check and store an upload's file",
    labelNames: ["kind"] as const,
    buckets: secondsBuckets,
    registers: this.registers,
  });

  private readonly conversions = new Counter({
    name: "switchboard_audio_conversions_total",
    help: "Audio conversions by direction and outcome (ok or error)",
    labelNames: ["conversion", "outcome"] as const,
    registers: this.registers,
  });

  private readonly conversionDuration = new Histogram({
    name: "switchboard_audio_conversion_duration_seconds",
    help: "Time an audio conversion took, by direction",
    labelNames: ["conversion"] as const,
    buckets: secondsBuckets,
    registers: this.registers,
  });

  private readonly retained = new Counter({
    name: "switchboard_retention_removed_total",
    help: "Rows removed by the retention sweep: recordings and media past their retention, delivered outbox rows",
    labelNames: ["kind"] as const,
    registers: this.registers,
  });

  delivery(type: DeliveryType, outcome: DeliveryOutcome): void {
    this.deliveries.inc({ type, outcome });
  }

  webhookRequest(outcome: WebhookOutcome, seconds: number): void {
    this.webhookDuration.observe({ outcome }, seconds);
  }

  authFailure(api: AuthenticatedApi): void {
    this.authFailures.inc({ api });
  }

  throttle(throttle: Throttle): void {
    this.throttled.inc({ throttle });
  }

  upload(kind: UploadKind, bytes: number, seconds: number): void {
    this.uploads.inc({ kind });
    this.uploadBytes.inc({ kind }, bytes);
    this.uploadDuration.observe({ kind }, seconds);
  }

  conversion(conversion: Conversion, ok: boolean, seconds: number): void {
    this.conversions.inc({ conversion, outcome: ok ? "ok" : "error" });
    this.conversionDuration.observe({ conversion }, seconds);
  }

  removedByRetention(kind: RetentionKind, count: number): void {
    if (count > 0) this.retained.inc({ kind }, count);
  }
}

/** `converter`, each conversion counted and timed. */
export function measuredConverter(converter: Converter, metrics: Metrics): Converter {
  const measured =
    (conversion: Conversion, convert: (input: Uint8Array) => Promise<Buffer>) =>
    async (input: Uint8Array): Promise<Buffer> => {
      const start = performance.now();
      try {
        const output = await convert(input);
        metrics.conversion(conversion, true, secondsSince(start));
        return output;
      } catch (error) {
        metrics.conversion(conversion, false, secondsSince(start));
        throw error;
      }
    };
  return {
    wavToMp3: measured("wav_to_mp3", (input) => converter.wavToMp3(input)),
    mp3ToWav: measured("mp3_to_wav", (input) => converter.mp3ToWav(input)),
  };
}

/** Seconds since `start` (a `performance.now()`). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
