import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Registry, collectDefaultMetrics, Histogram } from "prom-client";

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

/** /healthz (the process answers), /readyz (its dependencies answer) and /metrics (Prometheus). */
export function installOperations(app: FastifyInstance, readiness: ReadinessCheck[]): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // Measured: recording each request into prom-client as it ends took ~3% of a busy core. Each
  // route and status keeps a plain array of durations instead, handed to the histogram when
  // Prometheus scrapes (or when the array fills, which bounds the memory between scrapes).
  const pending = new Map<Histogram.Internal<string>, number[]>();
  const flush = (child: Histogram.Internal<string>, seconds: number[]) => {
    for (const value of seconds) child.observe(value);
    seconds.length = 0;
  };
  const duration = new Histogram({
    name: "switchboard_http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
    collect: () => pending.forEach((seconds, child) => flush(child, seconds)),
  });

  const observer = (method: string, route: string) => {
    const byStatus = new Map<number, { child: Histogram.Internal<string>; seconds: number[] }>();
    return (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      let series = byStatus.get(reply.statusCode);
      if (!series) {
        series = { child: duration.labels(method, route, String(reply.statusCode)), seconds: [] };
        byStatus.set(reply.statusCode, series);
        pending.set(series.child, series.seconds);
      }
      series.seconds.push(reply.elapsedTime / 1000);
      if (series.seconds.length >= 4096) flush(series.child, series.seconds);
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
  app.get("/metrics", hidden, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
