import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";

// s3rver ships no types; this is the part of its Koa-based API the tests use.
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  length: number;
  get(header: string): string;
  set(header: string, value: string): void;
}
interface S3rverInstance {
  middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => Promise<void>>;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
const S3rver = createRequire(import.meta.url)("s3rver") as S3rverConstructor;

/** Lets a test make aborts of multipart uploads fail, and count them. */
export interface AbortControl {
  refuseAborts: boolean;
  abortsRefused: number;
}

export interface RunningS3rver {
  endpoint: string;
  /** Where s3rver keeps buckets (`<directory>/<bucket>/…`). */
  directory: string;
  aborts: AbortControl;
  close(): Promise<void>;
}

/** s3rver on an ephemeral loopback port, in a temp directory, with the fixes below in front. */
export async function startS3rver(): Promise<RunningS3rver> {
  const directory = await mkdtemp(join(tmpdir(), "switchboard-s3rver-"));
  const aborts: AbortControl = { refuseAborts: false, abortsRefused: 0 };
  const server = new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true });
  server.middleware.unshift(s3Fixes(directory, aborts));
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    aborts,
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver 3.7 falls short of S3 in two ways the tests touch; emulate S3 in front of it:
 * - it has no AbortMultipartUpload (DELETE ?uploadId= answers 405), so parts of an abandoned upload
 *   would stay forever. Like S3, drop them and answer 204.
 * - it reads `Range: bytes=0-0` as `bytes=0-` (`end || Infinity`) and sends the whole object. Cut the
 *   body to the one requested byte.
 */
function s3Fixes(directory: string, aborts: AbortControl) {
  return async (ctx: KoaContext, next: () => Promise<void>): Promise<void> => {
    const uploadId = ctx.query.uploadId;
    if (ctx.method === "DELETE" && typeof uploadId === "string" && /^[0-9a-f]+$/.test(uploadId)) {
      if (aborts.refuseAborts) {
        aborts.abortsRefused++;
        return next(); // s3rver's own answer: 405 MethodNotAllowed
      }
      const bucket = ctx.path.split("/")[1] ?? "";
      await rm(join(directory, bucket, "._S3rver_uploads", uploadId), { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    const firstByteOnly = ctx.method === "GET" && ctx.get("range") === "bytes=0-0";
    await next();
    if (firstByteOnly && ctx.status === 206 && ctx.body instanceof Readable) {
      const size = /\/(\d+)$/.exec(ctx.get("content-range") ?? "")?.[1];
      const body = ctx.body;
      ctx.body = Readable.from(firstByte(body));
      ctx.length = 1;
      ctx.set("Content-Range", `bytes 0-0/${size}`);
    }
  };
}

async function* firstByte(body: Readable): AsyncGenerator<Buffer> {
  for await (const chunk of body) {
    yield (chunk as Buffer).subarray(0, 1);
    return;
  }
}
