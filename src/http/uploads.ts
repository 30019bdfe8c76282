import type { Readable } from "node:stream";
import busboy from "busboy";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError, BadRequest, ClientGone } from "../errors.js";

// The one multipart handler of every upload route (createMedia, and the operator's recording
// uploads). Parts may come in any order: the file streams to the blob store as it arrives, the
// text fields are collected around it, and the caller creates its row once the body has ended,
// so a failure anywhere leaves nothing behind. busboy (rather than @fastify/multipart, whose
// parser decodes a file name it cannot read as UTF-8 into U+FFFD) keeps the bytes of every text
// part, so a part that is not valid UTF-8 can be read as ISO-8859-1: the Java SDK sends `Café` as
// `Caf\xE9` with no charset.

/**
 * Registers routes that take multipart uploads in a scope of their own, whose multipart parser
 * leaves the body unread for `readUpload`. Elsewhere a multipart body meets the catch-all
 * parser and gets a 400 saying what to send.
 */
export async function uploadRoutes<App extends FastifyInstance>(app: App, routes: (scope: App) => void): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser("multipart/form-data", (_request, _payload, done) => done(null));
    routes(scope as App);
  });
}

export function isMultipart(request: FastifyRequest): boolean {
  return /^multipart\/form-data(;|$)/i.test(request.headers["content-type"]?.trim() ?? "");
}

export interface Upload<Stored> {
  /** What `store` made of the part named `file`. */
  file: Stored;
  /** Text fields by name (the last of a repeated name). */
  fields: Record<string, string>;
}

export interface UploadHandling<Stored> {
  /** Stores the file as it streams in; what it throws (a 400, a 413) ends the upload. */
  store(file: Readable, filename: string | undefined): Promise<Stored>;
  /** Removes what `store` stored, when the upload fails after it. */
  discard(stored: Stored): Promise<void>;
  /** The largest file `store` accepts: busboy stops counting one byte past it. */
  maxFileBytes: number;
}

const fieldBytes = 64 * 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A text part as its sender meant it. busboy decodes parts without a charset as ISO-8859-1
 * (`defCharset`), which keeps every byte; valid UTF-8 is then read as UTF-8, anything else stays
 * ISO-8859-1. A part that named another charset was decoded with it (it has characters above U+00FF
 * or reads the same either way).
 */
function textOf(value: string): string {
  if (!/^[\x00-\xff]*$/.test(value) || /^[\x00-\x7f]*$/.test(value)) return value;
  try {
    return utf8.decode(Buffer.from(value, "latin1"));
  } catch {
    return value;
  }
}

function withoutNul(value: string, what: string): string {
  if (value.includes("\0")) throw new BadRequest(`${what}: must not contain NUL characters`);
  return value;
}

/**
 * Reads a multipart upload: exactly one file part named `file`, stored by `handling.store` while
 * it arrives, and any text fields, before or after it. Resolves once the whole body is read. On any
 * failure what was stored is discarded; a malformed body is a 400 and a client that went away is
 * ClientGone.
 */
export async function readUpload<Stored>(request: FastifyRequest, handling: UploadHandling<Stored>): Promise<Upload<Stored>> {
  let form: busboy.Busboy;
  try {
    form = busboy({
      headers: request.headers,
      defCharset: "latin1",
      defParamCharset: "latin1",
      limits: { fileSize: handling.maxFileBytes + 1, files: 2, fields: 10, fieldSize: fieldBytes, parts: 20, headerPairs: 100 },
    });
  } catch (error) {
    throw malformed(error as Error);
  }

  const incoming = request.raw;
  const fields: Record<string, string> = {};
  let storing: Promise<Stored> | undefined;
  /** What went wrong with the body itself; it explains any failure of the store that follows. */
  let bodyFailure: Error | undefined;

  const parsed = new Promise<void>((resolve, reject) => {
    const refuse = (error: Error) => reject(bodyFailure ?? error);
    form.on("file", (name, file, info) => {
      // busboy fails the file part when the body breaks off (or the client leaves); an AbortError is
      // the store letting go of the stream, which says nothing about the body.
      file.once("error", (error) => {
        if (error.name !== "AbortError") bodyFailure ??= malformed(error);
      });
      if (storing || name !== "file") {
        file.resume();
        refuse(new BadRequest(name === "file" ? "send exactly one part named file" : `unexpected file part "${name}": send the file in a part named file`));
        return;
      }
      let filename: string | undefined;
      try {
        filename = info.filename === undefined ? undefined : withoutNul(textOf(info.filename), "file name");
      } catch (error) {
        file.resume();
        refuse(error as Error);
        return;
      }
      storing = handling.store(file, filename);
      storing.catch(refuse);
    });
    form.on("field", (name, value, info) => {
      try {
        const field = withoutNul(textOf(name), "multipart field name");
        if (info.valueTruncated) throw new BadRequest(`${field}: must be at most ${fieldBytes} bytes`);
        fields[field] = withoutNul(textOf(value), field);
      } catch (error) {
        refuse(error as Error);
      }
    });
    form.on("partsLimit", () => refuse(new BadRequest("a multipart body of at most 20 parts, please")));
    form.on("fieldsLimit", () => refuse(new BadRequest("a multipart body of at most 10 text fields, please")));
    form.on("error", (error: Error) => refuse(malformed(error)));
    form.on("close", resolve);
    incoming.on("close", () => {
      if (incoming.complete) return;
      bodyFailure ??= new ClientGone("the client left before its upload was complete");
      form.destroy(bodyFailure);
      reject(bodyFailure);
    });
  });

  incoming.pipe(form);
  try {
    await parsed;
    if (!storing) throw new BadRequest("the part named file is required");
    return { file: await storing, fields };
  } catch (error) {
    // Stop reading: the error handler drains what is left of the body (unread-body.ts).
    incoming.unpipe(form);
    form.destroy();
    const stored = await storing?.catch(() => undefined);
    if (stored !== undefined) await handling.discard(stored);
    throw error instanceof ApiError || error instanceof ClientGone ? error : (bodyFailure ?? error);
  }
}

function malformed(error: Error): Error {
  if (error instanceof ApiError || error instanceof ClientGone) return error;
  return new BadRequest(`malformed multipart/form-data body: ${error.message}`);
}
