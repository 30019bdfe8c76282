import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { collectDefaultMetrics, type Registry } from "prom-client";
import { fixedDigest, requireBearer } from "./bearer-auth.js";
import { DurationHistogram, type Series } from "./duration-histogram.js";

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

export interface MetricsEndpoint {
  /** Where the services' metrics (src/metrics.ts) and the database gauges are registered. */
  registry: Registry;
  /** SWITCHBOARD_METRICS_TOKEN: /metrics then needs `Authorization: Bearer <token>`. */
  token?: string;
}

/**
 * /healthz (the process answers), /readyz (its dependencies answer, and it is not stopping) and
 * /metrics (Prometheus).
 */
export function installOperations(app: FastifyInstance, readiness: ReadinessCheck[], stopping: () => boolean, { registry, token }: MetricsEndpoint): void {
  collectDefaultMetrics({ register: registry });

  const duration = new DurationHistogram(
    "switchboard_http_request_duration_seconds",
    "HTTP request duration by route and status",
    ["method", "route", "status"],
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  );

  const observer = (method: string, route: string) => {
    const byStatus = new Map<number, Series>();
    return (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      let series = byStatus.get(reply.statusCode);
      if (!series) {
        series = duration.labels(method, route, String(reply.statusCode));
        byStatus.set(reply.statusCode, series);
      }
      series.observe(reply.elapsedTime / 1000);
      done();
    };
  };
  app.addHook("onRoute", (route) => {
    const method = [route.method].flat().join(",");
    route.onResponse = [observer(method, route.url), ...[route.onResponse ?? []].flat()];
  });
  const unrouted = observer("ANY", "unknown");
  app.addHook("onResponse", (request, reply, done) => (request.is404 ? unrouted(request, reply, done) : done()));

  const hidden = { schema: { hide: true } };
  app.get("/healthz", hidden, async () => ({ status: "ok" }));
  app.get("/readyz", hidden, async (_request, reply) => {
    // Load balancers take the node out on this, while it still serves what they send meanwhile.
    if (stopping()) return reply.code(503).send({ status: "stopping", checks: {} });
    const results = await Promise.all(
      readiness.map(async ({ name, check }) => {
        try {
          await check();
          return [name, "ok"] as const;
        } catch (error) {
          return [name, `unavailable: ${(error as Error).message}`] as const;
        }
      }),
    );
    const ready = results.every(([, state]) => state === "ok");
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ok" : "unavailable", checks: Object.fromEntries(results) });
  });
  const onRequest =
    token === undefined ? [] : [requireBearer(fixedDigest(token), { message: "/metrics needs Authorization: Bearer <metrics token>", realm: "switchboard-metrics" })];
  app.get("/metrics", { ...hidden, onRequest }, async (_request, reply) =>
    reply.type(registry.contentType).send(`${await registry.metrics()}\n${duration.render()}`),
  );
}

