import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, preSerializationHookHandler } from "fastify";
import { parseFields, projectFields, type FieldSelection } from "./fields.js";

declare module "fastify" {
  interface FastifyRequest {
    fieldSelection?: FieldSelection;
  }
  interface FastifyContextConfig {
    /** A file download: no JSON body, so no `fields`. */
    binary?: boolean;
  }
}

const fieldsParameter = {
  type: "string",
  description: "Limit fields returned. Example fields=id,items(name,agents(id))",
};

/**
 * `fields` on every JSON GET, whether or not CallFire's spec declares it there: the parameter is
 * added to each such route's schema (so it is published too), parsed before the handler runs (a
 * syntax error is a 400 before any work), and applied to the successful response. The hooks are
 * attached to those routes only, so no other route pays for them.
 */
export function installPartialResponses(app: FastifyInstance): void {
  app.addHook("onRoute", (route) => {
    const methods = [route.method].flat();
    const ok = (route.schema?.response as Record<string, unknown> | undefined)?.[200];
    if (!methods.includes("GET") || !ok || route.config?.binary) return;
    const query = (route.schema!.querystring ?? { type: "object", properties: {} }) as { properties?: object };
    route.schema!.querystring = { ...query, properties: { ...query.properties, fields: fieldsParameter } };
    route.preHandler = [parseFieldsHook, ...[route.preHandler ?? []].flat()];
    route.preSerialization = [projectFieldsHook, ...[route.preSerialization ?? []].flat()] as preSerializationHookHandler[];
  });
}

function parseFieldsHook(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const fields = (request.query as { fields?: string }).fields;
  if (fields) {
    try {
      request.fieldSelection = parseFields(fields);
    } catch (error) {
      return done(error as Error);
    }
  }
  done();
}

function projectFieldsHook(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void): void {
  done(null, request.fieldSelection && reply.statusCode === 200 ? projectFields(payload, request.fieldSelection) : payload);
}
