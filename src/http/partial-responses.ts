import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parseFields, projectFields } from "./fields.js";

declare module "fastify" {
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
 * syntax error is a 400 before any work), and applied to what the handler returns. The handler
 * is wrapped rather than hooked: two hook stages on every GET cost more than the whole feature
 * when the parameter is absent. Such handlers return their body rather than `reply.send` it.
 */
export function installPartialResponses(app: FastifyInstance): void {
  app.addHook("onRoute", (route) => {
    const methods = [route.method].flat();
    const ok = (route.schema?.response as Record<string, unknown> | undefined)?.[200];
    if (!methods.includes("GET") || !ok || route.config?.binary) return;
    const query = (route.schema!.querystring ?? { type: "object", properties: {} }) as { properties?: object };
    route.schema!.querystring = { ...query, properties: { ...query.properties, fields: fieldsParameter } };
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const fields = (request.query as { fields?: string }).fields;
      if (!fields) return handler.call(this, request, reply);
      const selection = parseFields(fields);
      return Promise.resolve(handler.call(this, request, reply)).then((payload) => {
        if (payload === reply) throw new Error(`${route.url}: a handler under fields must return its body, not send it`);
        return reply.statusCode === 200 ? projectFields(payload, selection) : payload;
      });
    };
  });
}
