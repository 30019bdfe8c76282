import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig, settings } from "../src/config.js";

// No Docker engine runs where these tests do: the image is never built here. What can be checked
// without one is checked: the image runs the `serve` the other tests exercise, as a non-root user,
// listening on all addresses, with a health check on /readyz; the compose file is valid YAML whose
// Switchboard settings are real settings that load. (`yaml` is @fastify/swagger's dependency.)

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");
const pkg = JSON.parse(read("package.json")) as { bin: { switchboard: string }; scripts: { start: string } };

/** The Dockerfile's instructions, continuation lines joined: [instruction, arguments][] per stage. */
function dockerfileStages(): Array<Array<[string, string]>> {
  const lines = read("Dockerfile")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
  const stages: Array<Array<[string, string]>> = [];
  for (const line of lines) {
    const [, instruction, args] = /^(\S+)\s+(.*)$/.exec(line)!;
    if (instruction!.toUpperCase() === "FROM") stages.push([]);
    stages.at(-1)!.push([instruction!.toUpperCase(), args!]);
  }
  return stages;
}

describe("the container image (Dockerfile; not built here: no Docker engine)", () => {
  const stages = dockerfileStages();
  const final = stages.at(-1)!;
  const last = (instruction: string) => final.filter(([i]) => i === instruction).at(-1)?.[1];

  it("runs `node dist/src/cli.js serve`: the switchboard binary's serve, as `npm start` and the tests run it", () => {
    const command = [...(JSON.parse(last("ENTRYPOINT")!) as string[]), ...(JSON.parse(last("CMD")!) as string[])];
    expect(command).toEqual(["node", pkg.bin.switchboard, "serve"]);
    expect(pkg.scripts.start).toContain(command.join(" "));
    // The tests start `src/cli.ts serve` (test/support/cli.ts): the same file before `npm run build`.
    expect(fs.existsSync(path.join(root, pkg.bin.switchboard.replace(/^dist\//, "").replace(/\.js$/, ".ts")))).toBe(true);
  });

  it("is built in stages from node:20-bookworm-slim and runs as a non-root user on 0.0.0.0, checking /readyz", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage[0]![1]).toMatch(/^node:20-bookworm-slim\b/);
    expect(last("USER")).toBe("node");
    const env = final.filter(([i]) => i === "ENV").map(([, args]) => args).join(" ");
    expect(env).toContain("SWITCHBOARD_HOST=0.0.0.0");
    expect(last("HEALTHCHECK")).toContain("/readyz");
    expect(final.some(([i, args]) => i === "RUN" && /npm run build/.test(args))).toBe(false);
    expect(stages[0]!.some(([i, args]) => i === "RUN" && /npm run build/.test(args))).toBe(true);
  });

  it("copies only files that exist and that .dockerignore lets into the build context", () => {
    const ignored = read(".dockerignore")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#"));
    const copied = stages[0]!.filter(([i]) => i === "COPY").flatMap(([, args]) => args.split(/\s+/).slice(0, -1));
    expect(copied.length).toBeGreaterThan(0);
    for (const file of copied) {
      expect(fs.existsSync(path.join(root, file)), file).toBe(true);
      expect(ignored.some((pattern) => file === pattern || file.startsWith(`${pattern}/`)), `${file} is ignored`).toBe(false);
    }
  });
});

describe("the example compose file (compose.yaml; not run here: no Docker engine)", () => {
  const compose = parse(read("compose.yaml"), { merge: true }) as { services: Record<string, { environment?: Record<string, string>; volumes?: string[]; build?: string }> };
  const nodes = Object.entries(compose.services).filter(([name]) => name.startsWith("switchboard-"));

  it("has PostgreSQL, MinIO with a bucket-making one-shot, two Switchboard nodes built from the Dockerfile, and HAProxy", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["haproxy", "minio", "minio-bucket", "postgres", "switchboard-1", "switchboard-2"]);
    for (const [, node] of nodes) expect(node.build).toBe(".");
  });

  it("gives the nodes settings that exist and load, on PostgreSQL and S3", () => {
    const known = new Set(Object.values(settings).map((s) => s.env));
    for (const [, node] of nodes) {
      const environment = node.environment!;
      for (const name of Object.keys(environment)) expect(known, name).toContain(name);
      const config = loadConfig({}, environment);
      expect(config.databaseUrl).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
      expect(config.blobUrl).toMatch(/^s3:\/\//);
      expect(config.s3.endpoint).toBe("http://minio:9000");
      expect(config.shutdown.delayMs).toBeGreaterThan(0);
    }
  });

  it("puts HAProxy in front of both nodes, health-checking /readyz", () => {
    const mounted = compose.services.haproxy!.volumes![0]!.split(":")[0]!;
    const haproxy = read(mounted);
    expect(haproxy).toContain("option httpchk GET /readyz");
    for (const [name] of nodes) expect(haproxy).toMatch(new RegExp(`server \\S+ ${name}:8080 check`));
  });
});
