import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Unauthorized } from "../errors.js";

/** Adds the operator's bearer token check to every route of `app`. */
export function requireAdminToken(app: FastifyInstance, token: string): void {
  // Compare digests so the comparison takes the same time whatever length was sent.
  const expected = createHash("sha256").update(token).digest();
  app.addHook("onRequest", async (request: FastifyRequest) => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(request.headers.authorization ?? "");
    const presented = createHash("sha256").update(match?.[1] ?? "").digest();
    if (!match || !timingSafeEqual(presented, expected)) {
      const error = new Unauthorized("the operator API needs Authorization: Bearer <admin token>");
      error.headers["WWW-Authenticate"] = 'Bearer realm="switchboard-admin"';
      throw error;
    }
  });
}
