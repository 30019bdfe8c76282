import { createRequire } from "node:module";
import type { TestApp } from "./app.js";

// CallFire's own JS SDK (callfire-api-client-js 0.0.4), unmodified. It is a thin wrapper over
// swagger-client 2.x: `new CallfireClient(login, password)` loads `CallfireClient.basePath() +
// "api-docs/swagger.json"`, registers the credentials as "basicAuth", and `ready()` copies the
// operations onto the client (`client.media.findMedia({filter})`). Requests go where the loaded
// document's schemes, host and basePath say. Two faults of that client, which real CallFire has
// too, are worked around here rather than in the server (the README tells users the same).

const require = createRequire(import.meta.url);
const CallfireClient = require("callfire-api-client-js");
// superagent as the SDK's swagger-client resolves it: the one that parses the SDK's responses.
const fromSdk = createRequire(require.resolve("callfire-api-client-js"));
const superagent = createRequire(fromSdk.resolve("swagger-client"))("superagent");

// Fault 1: superagent buffers only images as bytes; any other download (audio/mp3, audio/wav,
// application/binary, …) is decoded as UTF-8 text and its bytes are lost. Parsed as an image,
// the SDK hands it over as a Buffer in `response.data`.
for (const type of ["audio/mp3", "audio/mpeg", "audio/wav", "audio/m4a", "video/mp4", "application/binary"]) {
  superagent.parse[type] = superagent.parse.image;
}

export interface CallfireSdkResponse {
  status: number;
  /** The parsed JSON body; null for downloads, empty bodies and bare booleans (verifyCallerId). */
  obj: any;
  /** The body as text, or a Buffer for downloads. */
  data: any;
}

/** The SDK: `client.<tag>.<operationId>(args)`, answering a promise of a CallfireSdkResponse. */
export type CallfireSdk = Record<string, Record<string, (args?: Record<string, unknown>) => Promise<CallfireSdkResponse>>>;

/** A ready client of the SDK for `app`, as a user points it at Switchboard: by its base path. */
export async function connectCallfireSdk(app: TestApp, login: string, password: string): Promise<CallfireSdk> {
  // swaggerUrl() reads the static basePath() once, in the constructor.
  const callfireBasePath = CallfireClient.basePath;
  CallfireClient.basePath = () => `${app.baseUrl}/v2/`;
  let client: CallfireSdk & { ready(resolve: () => void, reject: (error: unknown) => void): void };
  try {
    client = new CallfireClient(login, password);
  } finally {
    CallfireClient.basePath = callfireBasePath;
  }
  await new Promise<void>((resolve, reject) => client.ready(resolve, reject));
  return client;
}

/**
 * Fault 2: swagger-client 2.x builds a multipart body with the global FormData when there is one
 * (Node 18 and later), whose append() turns a stream into the text "[object Object]". Without it,
 * superagent streams the file as a file part. The body is built when the operation is called, so
 * the global is hidden only for that synchronous moment.
 */
export function withoutGlobalFormData<T>(send: () => T): T {
  const formData = globalThis.FormData;
  Reflect.deleteProperty(globalThis, "FormData");
  try {
    return send();
  } finally {
    globalThis.FormData = formData;
  }
}

/** What the SDK rejects with for an error status: the status and the parsed ErrorMessage. */
export async function sdkFailure(request: Promise<unknown>): Promise<{ status: number; obj: unknown }> {
  try {
    await request;
  } catch (error) {
    const { status, obj } = error as CallfireSdkResponse;
    return { status, obj };
  }
  throw new Error("the SDK call succeeded");
}
