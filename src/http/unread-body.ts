import type { FastifyRequest } from "fastify";

// An error found before the request body has all arrived (a body over a limit, an upload refused
// by its first bytes, a failed credential check on a large POST). Answering and closing at once,
// as Fastify does for a body it refuses, makes the client's TCP stack receive a reset while it is
// still sending, and a reset discards the answer it has not read yet: undici, Java's HttpClient
// and .NET report a broken pipe instead of the 413. So, as nginx's lingering close does, the rest
// of the body is read and dropped, within bounds, before the answer goes out; past the bounds the
// connection is closed. Answering only after the body also keeps a connection the client asked to
// close (Connection: close) from being cut under its upload.

/** More than this is not worth reading to deliver an error. */
const maxDiscardedBytes = 64 * 1024 * 1024;
/** nginx's lingering_time and lingering_timeout. */
const maxDiscardMs = 30_000;
const maxIdleMs = 5_000;

/** Resolves once the body has ended, or once the connection is closed for passing the bounds. */
export function discardUnreadBody(request: FastifyRequest): Promise<void> {
  const incoming = request.raw;
  if (incoming.complete || incoming.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let discarded = 0;
    const stop = () => {
      clearTimeout(deadline);
      clearTimeout(idle);
      incoming.removeListener("data", count);
      resolve();
    };
    const close = () => {
      stop();
      incoming.socket?.destroy();
    };
    const deadline = setTimeout(close, maxDiscardMs).unref();
    const idle = setTimeout(close, maxIdleMs).unref();
    const count = (chunk: Buffer) => {
      discarded += chunk.length;
      idle.refresh();
      if (discarded > maxDiscardedBytes) close();
    };
    incoming.on("data", count);
    incoming.once("end", stop);
    incoming.once("close", stop);
    incoming.resume();
  });
}
