import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Unauthorized } from "../errors.js";

/**
 * Adds the operator's bearer token check to every route of `app`. `expected` gives the SHA-256 of
 * the current token (it may change while the server runs: `switchboard admin-token rotate`).
 */
export function requireAdminToken(app: FastifyInstance, expected: () => Promise<Buffer | undefined>): void {
  app.addHook("onRequest", async (request: FastifyRequest) => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(request.headers.authorization ?? "");
    // Compare digests so the comparison takes the same time whatever length was sent.
    const presented = createHash("sha256").update(match?.[1] ?? "").digest();
    const digest = await expected();
    if (!match || !digest || !timingSafeEqual(presented, digest)) {
      const error = new Unauthorized("the operator API needs Authorization: Bearer <admin token>");
      error.headers["WWW-Authenticate"] = 'Bearer realm="switchboard-admin"';
      throw error;
    }
  });
}
