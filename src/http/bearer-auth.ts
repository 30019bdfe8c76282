import { timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { tokenDigest } from "../admin-token.js";
import { Unauthorized } from "../errors.js";

/**
 * An onRequest hook admitting `Authorization: Bearer <token>`, for the operator API and /metrics.
 * `expected` gives the SHA-256 of the current token (the operator's may change while the server
 * runs: `switchboard admin-token rotate`); digests are compared, so the time taken does not depend
 * on what was sent. A refusal is a 401 with `refusal.message` and a Bearer challenge for its realm.
 */
export function requireBearer(expected: () => Promise<Buffer | undefined>, refusal: { message: string; realm: string }) {
  return async (request: FastifyRequest): Promise<void> => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(request.headers.authorization ?? "");
    const presented = tokenDigest(match?.[1] ?? "");
    const digest = await expected();
    if (!match || !digest || !timingSafeEqual(presented, digest)) {
      throw new Unauthorized(refusal.message, `Bearer realm="${refusal.realm}"`);
    }
  };
}

/** `expected` for a token that never changes. */
export function fixedDigest(token: string): () => Promise<Buffer> {
  const digest = tokenDigest(token);
  return async () => digest;
}
