import multipart from "@fastify/multipart";
import type { FastifyInstance } from "fastify";

/**
 * Registers the routes that take multipart uploads in a scope of their own, parsing at most `files`
 * file parts of up to `maxFileBytes` each. @fastify/multipart adds an async onResponse hook and ten
 * request decorations to every route of the scope it is registered in; at the root that cost
 * landed on every request. Elsewhere a multipart body meets the catch-all parser and gets a 400
 * saying what to send.
 */
export async function uploadRoutes<App extends FastifyInstance>(
  app: App,
  { maxFileBytes, files }: { maxFileBytes: number; files: number },
  routes: (scope: App) => void,
): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(multipart, {
      // Files are streamed to the blob store, which enforces each upload's own size limit; these
      // only bound what busboy itself will buffer or count.
      limits: { fileSize: maxFileBytes + 1, files, fields: 10, fieldSize: 64 * 1024, parts: 20, headerPairs: 100 },
    });
    routes(scope as App);
  });
}
