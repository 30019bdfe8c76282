import type { FastifyPluginAsync } from "fastify";
import { requireBasicAuth } from "../http/basic-auth.js";
import type { Authenticator } from "../services/authenticator.js";
import type { BillingService } from "../services/billing.js";
import type { CallOutbox } from "../services/call-outbox.js";
import type { ConsoleSessionService } from "../services/console-sessions.js";
import { consoleReadRoutes } from "./read-routes.js";
import { consoleSessionRoutes } from "./session-routes.js";

export interface ConsoleApiOptions {
  authenticator: Authenticator;
  sessions: ConsoleSessionService;
  billing: BillingService;
  outbox: CallOutbox;
  /** No webhook places verification calls (the embedded default). */
  sandbox: boolean;
}

/** /console/api: signing in and out, and the reads the console needs beside /v2. */
export const consoleApiRoutes: FastifyPluginAsync<ConsoleApiOptions> = async (app, { authenticator, sessions, billing, outbox, sandbox }) => {
  await app.register(consoleSessionRoutes, { authenticator, sessions, sandbox });
  await app.register(async (reads) => {
    requireBasicAuth(reads, authenticator, sessions);
    await reads.register(consoleReadRoutes, { billing, outbox, sandbox });
  });
};
