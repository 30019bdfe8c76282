import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import FindMyWay, { type HTTPMethod } from "find-my-way";
import { ApiError, ClientGone, MethodNotAllowed, NotFound, Unauthorized } from "../errors.js";
import type { AuthenticatedApi, Metrics } from "../metrics.js";
import { logCompleted } from "./request-log.js";
import { namePattern } from "./schemas.js";
import { discardUnreadBody } from "./unread-body.js";

// Every failure leaves here as CallFire's ErrorMessage body: errors thrown by services, schema
// violations, Fastify's own errors (bad JSON, body too large, wrong content type), unknown routes
// and 405s. A 500 carries only the request id; the detail goes to the log. A body still arriving
// when the error is found is read and dropped before the answer (unread-body.ts).

export interface ErrorMessage {
  httpStatusCode: number;
  internalCode: number;
  message: string;
  developerMessage?: string;
  helpLink?: string;
}

export function errorMessage(status: number, message: string, developerMessage?: string): ErrorMessage {
  return { httpStatusCode: status, internalCode: 0, message, ...(developerMessage ? { developerMessage } : {}) };
}

/** JSON bodies: nothing the API takes comes near it; files go through multipart instead. */
export const bodyLimit = 1024 * 1024;

const methods: HTTPMethod[] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/** The API a refused request was for, by its path. */
function apiOf(url: string): AuthenticatedApi | undefined {
  if (url.startsWith("/v2/")) return "v2";
  if (url.startsWith("/admin/")) return "admin";
  if (url.startsWith("/console/")) return "console";
  if (url.startsWith("/metrics")) return "metrics";
  return undefined;
}

export function installErrorHandling(app: FastifyInstance, metrics: Metrics): void {
  // A second router that knows every route, to tell "no such path" (404) from "no such method
  // on this path" (405) — Fastify answers both with its not-found handler.
  const routes = FindMyWay({ ignoreTrailingSlash: false });
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) {
      if (!routes.hasRoute(method as HTTPMethod, route.url)) routes.on(method as HTTPMethod, route.url, () => {});
    }
  });

  app.setNotFoundHandler(async (request: FastifyRequest) => {
    const path = request.url.split("?")[0]!;
    const allowed = methods.filter((m) => m !== request.method && routes.find(m, path));
    if (allowed.length > 0) throw new MethodNotAllowed(request.method, path, allowed);
    throw new NotFound(`no such resource: ${request.method} ${path}`);
  });

  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof ClientGone) {
      request.log.info(error.message);
      return reply.code(400).send(errorMessage(400, error.message));
    }
    await discardUnreadBody(request);
    if (error instanceof ApiError) {
      if (error instanceof Unauthorized) {
        const api = apiOf(request.url);
        if (api) metrics.authFailure(api);
      }
      reply.headers(error.headers);
      return reply.code(error.statusCode).send(errorMessage(error.statusCode, error.message, error.developerMessage));
    }
    if (error.validation) {
      return reply.code(400).send(errorMessage(400, error.message));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send(errorMessage(status, clientErrorMessage(error)));
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send(errorMessage(500, `internal server error (request id ${request.id})`, `request id: ${request.id}`));
  });
}

/**
 * Errors Fastify raises before any route runs, which it would otherwise answer in its own shape:
 * a path parameter longer than its 100-character limit (a 10 KB caller id) or a malformed
 * percent-encoding. Both are the client's: 400.
 */
export function renderFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  // Fastify answers these before routing, where no onResponse runs: the access line is ours to write.
  const start = performance.now();
  reply.raw.once("finish", () => logCompleted(request, reply, performance.now() - start));
  const message =
    error.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? "path parameter: must NOT have more than 100 characters"
      : error.code === "FST_ERR_BAD_URL"
        ? "the URL path is not validly percent-encoded"
        : error.message;
  void reply.code(400).send(errorMessage(400, message));
}

/** Fastify's own messages, in CallFire's short lower-case style where they would confuse. */
function clientErrorMessage(error: FastifyError): string {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return `request body is larger than the ${bodyLimit / 1024 / 1024} MiB limit`;
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return "unsupported content type: send application/json";
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return "request body does not match its Content-Length";
    default:
      return error.message;
  }
}

/** Turns Ajv's errors into one message that names the parameter and says why. */
export function formatSchemaErrors(
  errors: Array<{ instancePath: string; message?: string; params?: Record<string, unknown>; keyword: string }>,
  part: string,
): Error {
  const where = { querystring: "query parameter", params: "path parameter", body: "body", headers: "header" }[part] ?? part;
  const first = errors[0]!;
  const path = first.instancePath.replace(/^\//, "").replace(/\//g, ".");
  let subject = path ? `${where} ${path}` : where;
  if (first.keyword === "required") {
    const missing = String(first.params?.missingProperty ?? "");
    subject = part === "body" ? `body field ${path ? `${path}.` : ""}${missing}` : `${where} ${missing}`;
    return new Error(`${subject}: is required`);
  }
  // A union (a code as a string or an integer): Ajv reports each branch, then the anyOf.
  const union = errors.find((error) => error.keyword === "anyOf" && error.instancePath === first.instancePath);
  if (union) {
    const branches = errors.filter((error) => error !== union && error.instancePath === first.instancePath).map((error) => error.message);
    return new Error(`${subject}: ${branches.join(" or ")}`);
  }
  if (first.keyword === "pattern" && first.params?.pattern === namePattern) {
    return new Error(`${subject}: must not contain control characters`);
  }
  if (first.keyword === "additionalProperties") {
    return new Error(`${subject}: unknown field ${String(first.params?.additionalProperty)}`);
  }
  return new Error(`${subject}: ${first.message ?? "is invalid"}`);
}
