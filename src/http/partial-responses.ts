import type { FastifyInstance, FastifyRequest } from "fastify";
import { parseFields, projectFields, type FieldSelection } from "./fields.js";

declare module "fastify" {
  interface FastifyRequest {
    fieldSelection?: FieldSelection;
  }
}

const fieldsParameter = {
  type: "string",
  description: "Limit fields returned. Example fields=id,items(name,agents(id))",
};

/**
 * `fields` on every JSON GET, whether or not CallFire's spec declares it there: the parameter is
 * added to each such route's schema (so it is published too), parsed before the handler runs (a
 * syntax error is a 400 before any work), and applied to the successful response.
 */
export function installPartialResponses(app: FastifyInstance): void {
  app.addHook("onRoute", (route) => {
    const methods = [route.method].flat();
    const ok = (route.schema?.response as Record<string, unknown> | undefined)?.[200];
    if (!methods.includes("GET") || !ok || route.config?.binary) return;
    const query = (route.schema!.querystring ?? { type: "object", properties: {} }) as { properties?: object };
    route.schema!.querystring = { ...query, properties: { ...query.properties, fields: fieldsParameter } };
  });

  app.addHook("preHandler", async (request: FastifyRequest) => {
    const fields = (request.query as { fields?: string } | undefined)?.fields;
    if (fields && request.method === "GET") request.fieldSelection = parseFields(fields);
  });

  app.addHook("preSerialization", async (request: FastifyRequest, reply, payload) => {
    if (!request.fieldSelection || reply.statusCode !== 200) return payload;
    return projectFields(payload, request.fieldSelection);
  });
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** A file download: no JSON body, so no `fields`. */
    binary?: boolean;
  }
}
