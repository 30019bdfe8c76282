import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { markSvg, wordmarkSvg } from "./brand.js";
import { publicBaseUrl } from "./public-url.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The operator API's OpenAPI 3 document (a second @fastify/swagger, beside /v2's `swagger()`). */
    adminOpenapi(): Record<string, unknown>;
  }
}

// The operator API's own contract, generated from the /admin/v1 route schemas as /v2's is
// (contract-documents.ts), but as OpenAPI 3: Swagger 2.0 has no bearer scheme. A second
// @fastify/swagger instance under its own decorator sees every route; each document hides the
// other's, so /v2's stays exactly as it was.

export const adminPrefix = "/admin/v1";

const description = [
  "The operator's API: accounts, their plans and credits, and what the voice platform reports (calls, recordings, texts), the delivery outbox and login lockouts. It is not part of the CallFire API and no CallFire client calls it.",
  "",
  "**Authenticate** with the admin token: `Authorization: Bearer <token>`. `switchboard serve` prints where it is (`SWITCHBOARD_ADMIN_TOKEN`, or a file in the data directory). Press *Authorize* and paste the token to try operations from this page.",
  "",
  "This document is public, as `/v2`'s is: it describes the routes, never data, and every operation still needs the token.",
  "",
  `[Home](/) · [CallFire API v2 reference](/docs) · [OpenAPI 3](${adminPrefix}/openapi.json)`,
].join("\n");

/** A path segment and the tag of the operations on it; the last one a path names decides. */
const tagOfSegment: Record<string, string> = {
  accounts: "accounts",
  billing: "billing",
  plan: "billing",
  credits: "billing",
  calls: "calls",
  recordings: "calls",
  texts: "texts",
  media: "media",
  outbox: "outbox",
  "login-lockouts": "login lockouts",
};

const tags = [
  { name: "accounts", description: "Accounts and their logins" },
  { name: "billing", description: "Plans, credits and balances" },
  { name: "calls", description: "Calls and their recordings, as the platform reports them" },
  { name: "texts", description: "Texts and text usage, as the platform reports them" },
  { name: "media", description: "Accounts' media files" },
  { name: "outbox", description: "Deliveries to the platform: verification calls, calls and texts" },
  { name: "login lockouts", description: "Usernames locked out after too many failed logins" },
];

function tagOf(path: string): string {
  const segments = path.split("/").filter((segment) => segment !== "" && !segment.startsWith("{"));
  for (const segment of segments.reverse()) if (tagOfSegment[segment]) return tagOfSegment[segment]!;
  return segments.at(-1) ?? "operator";
}

/** A multipart form as the routes' `formData` config says it (Swagger 2.0 words), in OpenAPI 3's. */
function multipartSchema(form: { required?: string[]; properties: Record<string, { type: string; description?: string }> }) {
  const properties = Object.fromEntries(
    Object.entries(form.properties).map(([name, { type, description }]) => [
      name,
      type === "file" ? { type: "string", format: "binary", description } : { type, description },
    ]),
  );
  return { type: "object", required: form.required, properties };
}

/** Publishes /admin/v1 at `/admin/v1/openapi.json` and browsable at `/admin/docs`; call before any route is added. */
export async function installAdminDocuments(app: FastifyInstance, publicUrl: string | undefined): Promise<void> {
  await app.register(swagger, {
    decorator: "adminOpenapi",
    openapi: {
      openapi: "3.0.3",
      info: { title: "Switchboard operator API", version: "1", description },
      components: { securitySchemes: { adminToken: { type: "http", scheme: "bearer", description: "the admin token" } } },
      security: [{ adminToken: [] }],
      tags,
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
    transform: ({ schema, url, route }) => {
      if (!url.startsWith(`${adminPrefix}/`)) return { schema: { ...schema, hide: true }, url };
      const path = url.slice(adminPrefix.length);
      let published: Record<string, unknown> = { ...schema, tags: [tagOf(path)] };
      // Multipart routes stream their parts instead of validating a body; publish their form.
      const form = route.config?.formData;
      if (form) {
        const content = (schema.body as { content?: Record<string, unknown> } | undefined)?.content ?? {};
        published.body = { content: { ...content, "multipart/form-data": { schema: multipartSchema(form) } } };
      }
      if (route.config?.publishedBody) published.body = route.config.publishedBody;
      if (route.config?.binary) {
        const responses = schema.response as Record<string, { description?: string }>;
        const file = { description: responses[200]?.description ?? "the file", content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } };
        published = { ...published, response: { ...responses, 200: file } };
      }
      return { schema: published, url: path };
    },
  });

  let published: Record<string, unknown> | undefined;
  const documentFor = (request: FastifyRequest) => {
    published ??= onlyWhatIsUsed(app.adminOpenapi());
    return { ...published, servers: [{ url: `${publicBaseUrl(request, publicUrl)}${adminPrefix}` }] };
  };

  // Its own scope: the UI plugin decorates the instance it is registered on, and /docs has one.
  await app.register(async (scope) => {
    await scope.register(swaggerUi, {
      routePrefix: "/admin/docs",
      uiConfig: { docExpansion: "list", deepLinking: true },
      // The operator document, not the /v2 one the plugin hands over (so no need to copy that).
      transformSpecification: (_v2, request) => documentFor(request),
      transformSpecificationClone: false,
      logo: { type: "image/svg+xml", content: Buffer.from(wordmarkSvg), href: "/", target: "_self" },
      theme: {
        title: "Switchboard operator API reference",
        css: [{ filename: "theme.css", content: ".swagger-ui .topbar .download-url-wrapper { display: none; }" }],
        favicon: [{ filename: "favicon.svg", rel: "icon", sizes: "any", type: "image/svg+xml", content: Buffer.from(markSvg) }],
      },
    });
  });

  // Outside the /admin/v1 scope, so its token check does not apply (see `description`).
  app.get(`${adminPrefix}/openapi.json`, { schema: { hide: true } }, async (request) => documentFor(request));
}

/**
 * The document without what only /v2 uses: @fastify/swagger publishes every shared schema in each
 * document (the operator API refers to a few), and a tag of ours may have no operation yet.
 */
function onlyWhatIsUsed(document: Record<string, unknown>): Record<string, unknown> {
  const { paths = {}, components = {}, tags: declared = [] } = document as {
    paths?: Record<string, Record<string, { tags?: string[] }>>;
    components?: { schemas?: Record<string, unknown> };
    tags?: Array<{ name: string }>;
  };
  const schemas = components.schemas ?? {};
  const used = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== "object") return;
    for (const [key, inner] of Object.entries(value)) {
      const name = key === "$ref" && typeof inner === "string" ? /^#\/components\/schemas\/(.+)$/.exec(inner)?.[1] : undefined;
      if (name !== undefined && !used.has(name)) {
        used.add(name);
        visit(schemas[name]);
      } else {
        visit(inner);
      }
    }
  };
  visit(paths);
  const tagged = new Set(Object.values(paths).flatMap((methods) => Object.values(methods).flatMap((operation) => operation.tags ?? [])));
  return {
    ...document,
    tags: declared.filter((tag) => tagged.has(tag.name)),
    components: { ...components, schemas: Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name))) },
  };
}
