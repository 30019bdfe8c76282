import type { QueuedCall } from "../services/call-outbox.js";

/** Places a verification call, or throws why it could not; resolving means it was accepted. */
export interface CallTransport {
  place(call: QueuedCall): Promise<void>;
}

/** The part of a pino logger delivery uses (Fastify's logger is one). */
export interface DeliveryLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** The embedded default: no telephony, so the call is one log line a developer can read the code from. */
export class LogCallTransport implements CallTransport {
  constructor(private readonly log: DeliveryLog) {}

  async place(call: QueuedCall): Promise<void> {
    this.log.info({ callId: call.id, to: call.to, code: call.code }, `verification call to +${call.to}: "${call.message}"`);
  }
}

/** For the CLI, which builds the services but never delivers calls. */
export const silentLog: DeliveryLog = { info() {}, warn() {}, error() {} };
