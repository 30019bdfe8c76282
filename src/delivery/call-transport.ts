import type { Delivery, NewDelivery } from "../services/call-outbox.js";

/**
 * Hands a delivery (a verification call, a call or a text) to the platform, or throws why it
 * could not; resolving means it was accepted. What the acceptance leaves to do (the simulator's
 * pending outcome) is queued in the same transaction that records it as delivered.
 */
export interface CallTransport {
  place(delivery: Delivery): Promise<NewDelivery | undefined>;
}

/** The part of a pino logger delivery uses (Fastify's logger is one). */
export interface DeliveryLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** For the CLI, which builds the services but never delivers calls. */
export const silentLog: DeliveryLog = { info() {}, warn() {}, error() {} };
