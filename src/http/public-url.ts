import type { FastifyRequest } from "fastify";

/** Links we hand out (publicUrl, mp3Url): the configured public URL, else how this request reached us. */
export function publicBaseUrl(request: FastifyRequest, configured: string | undefined): string {
  return configured ?? `${request.protocol}://${request.host}`;
}
