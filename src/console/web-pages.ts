import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { NotFound, ServiceUnavailable } from "../errors.js";

// The docs landing page (/), the README as a page (/readme) and the web console (/console), as
// built by Vite from web/ into dist/web (`npm run build`). Built assets have content hashes in their names, so they are
// cached for a year; the two HTML pages, which name the current assets, are revalidated always.

/** The project's own directory: this file runs from src/ in tests and from dist/src/ once built. */
function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("cannot find the project's package.json above src/console");
    dir = parent;
  }
  return dir;
}

export const webBuildDir = path.join(projectRoot(), "dist", "web");

interface Page {
  html: Buffer;
  etag: string;
}

function readPage(file: string): Page | undefined {
  if (!fs.existsSync(file)) return undefined;
  const html = fs.readFileSync(file);
  return { html, etag: `"${createHash("sha256").update(html).digest("base64url")}"` };
}

export async function installWebPages(app: FastifyInstance, buildDir = webBuildDir): Promise<void> {
  const landing = readPage(path.join(buildDir, "index.html"));
  const readme = readPage(path.join(buildDir, "readme.html"));
  const consolePage = readPage(path.join(buildDir, "console", "index.html"));

  const send = (page: Page | undefined) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (!page) throw new ServiceUnavailable("the web pages are not built: run npm run build");
    reply.header("Cache-Control", "no-cache").header("ETag", page.etag);
    if (request.headers["if-none-match"] === page.etag) return reply.code(304).send();
    return reply.type("text/html; charset=utf-8").send(page.html);
  };
  const hidden = { schema: { hide: true } };

  app.get("/", hidden, send(landing));
  app.get("/readme", hidden, send(readme));
  app.get("/console", hidden, send(consolePage));
  // The console routes its pages in the browser; a reload or a link to one gets the same page.
  app.get("/console/*", hidden, send(consolePage));
  // …but an unknown path of the console's API is an unknown resource, whatever the method.
  app.all("/console/api/*", hidden, async (request) => {
    throw new NotFound(`no such resource: ${request.method} ${request.url.split("?")[0]}`);
  });

  if (fs.existsSync(path.join(buildDir, "assets"))) {
    await app.register(fastifyStatic, {
      root: path.join(buildDir, "assets"),
      prefix: "/assets/",
      decorateReply: false,
      index: false,
      maxAge: "365d",
      immutable: true,
      // One route per built file, found now: an unknown asset is then the router's plain 404.
      wildcard: false,
    });
  }
}
