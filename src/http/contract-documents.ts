import type { TSchema } from "@sinclair/typebox";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { markSvg, wordmarkSvg } from "./brand.js";
import { publicBaseUrl, publicLocation } from "./public-url.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The body as the published document says it, where Swagger 2.0 cannot say what the route validates. */
    publishedBody?: TSchema;
  }
}

// The published contract is generated from the route schemas: one source of truth. Only /v2
// routes are published, with CallFire's tags, operationIds and definition names.

/** Markdown: the Swagger UI shows it above the operations, and links it back to the landing page. */
const apiDescription = [
  "Switchboard is a self-hostable server that speaks the CallFire API v2: a program written against CallFire's API works against it by changing only the base URL and the credentials.",
  "",
  "**Authenticate** with HTTP Basic: an API credential (username and password, as `POST /me/api/credentials` creates them), or the account's own email and password, which the four `/me/api/credentials` operations require. Press *Authorize* to try operations from this page.",
  "",
  "[Home](/) · [Web console](/console) · [Swagger 2.0](/v2/api-docs/swagger.json) · [OpenAPI 3](/openapi.json)",
].join("\n");

export async function installContractDocuments(app: FastifyInstance, publicUrl: string | undefined): Promise<void> {
  await app.register(swagger, {
    swagger: {
      info: {
        title: "Switchboard: CallFire API v2",
        version: "2.0",
        description: apiDescription,
      },
      basePath: "/v2",
      consumes: ["application/json"],
      produces: ["application/json"],
      securityDefinitions: { basicAuth: { type: "basic" } },
      tags: [
        { name: "calls", description: "Calls: send, find and get them, and their recordings" },
        { name: "me", description: "Account, API credentials, billing and caller IDs" },
        { name: "media", description: "Media library" },
        { name: "texts", description: "Texts: send, find and get them" },
      ],
    },
    refResolver: {
      // Publish shared schemas under their $id: CallFire's definition names.
      buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
    transform: ({ schema, url, route }) => {
      if (!url.startsWith("/v2/")) return { schema: { ...schema, hide: true }, url };
      // Multipart routes stream their parts instead of validating a body; publish their form here.
      const form = route.config?.formData;
      if (form) schema = { ...schema, body: { type: "object", ...form } };
      if (route.config?.publishedBody) schema = { ...schema, body: route.config.publishedBody };
      // Swagger 2.0 names a download's body "file" (validation still sees the route's own schema).
      if (route.config?.binary) {
        const responses = schema.response as Record<string, { description?: string }>;
        schema = { ...schema, response: { ...responses, 200: { description: responses[200]?.description, type: "file" } } };
      }
      // A query array is the repeated parameter (`id=1&id=2`), as CallFire declares it for findCalls.
      const query = schema.querystring as { properties?: Record<string, { type?: string }> } | undefined;
      if (query?.properties && Object.values(query.properties).some((property) => property.type === "array")) {
        const properties = Object.fromEntries(
          Object.entries(query.properties).map(([name, property]) => [name, property.type === "array" ? { ...property, collectionFormat: "multi" } : property]),
        );
        schema = { ...schema, querystring: { ...query, properties } };
      }
      // Every operation lists basicAuth (swagger-client applies a named authorization only to
      // operations whose `security` names it), except the public download: `security: []` shows
      // no lock in /docs, and swagger-client 2.x then sends no credentials there.
      return { schema: { ...schema, security: route.config?.public ? [] : [{ basicAuth: [] }] }, url };
    },
  });

  // Clients call what the document says (swagger-client takes schemes, host and basePath from
  // it), so it names the server as clients reach it: behind a proxy too.
  const swaggerFor = (request: FastifyRequest, swaggerObject: object = app.swagger()) => {
    const { scheme, host, path } = publicLocation(request, publicUrl);
    return { ...swaggerObject, host, basePath: `${path}/v2`, schemes: [scheme] };
  };

  await app.register(swaggerUi, {
    routePrefix: "/docs",
    uiConfig: { docExpansion: "list", deepLinking: true },
    transformSpecification: (swaggerObject, request) => swaggerFor(request, swaggerObject),
    logo: { type: "image/svg+xml", content: Buffer.from(wordmarkSvg), href: "/", target: "_self" },
    theme: {
      title: "Switchboard API reference",
      // The document is ours; the box to load another one is the framework's demo.
      css: [{ filename: "theme.css", content: ".swagger-ui .topbar .download-url-wrapper { display: none; }" }],
      favicon: [{ filename: "favicon.svg", rel: "icon", sizes: "any", type: "image/svg+xml", content: Buffer.from(markSvg) }],
    },
  });

  let openapi: Promise<Record<string, unknown>> | undefined;
  const openapiFor = async (request: FastifyRequest) => {
    // The converter is loaded on the first request for it: ~70 ms of CPU no start should pay.
    openapi ??= import("swagger2openapi").then(({ default: swagger2openapi }) =>
      swagger2openapi
        // A JSON copy: the converter refuses objects shared between two places in the document.
        .convertObj(JSON.parse(JSON.stringify(app.swagger())), { patch: true, warnOnly: true })
        .then((r) => r.openapi as unknown as Record<string, unknown>),
    );
    return { ...(await openapi), servers: [{ url: `${publicBaseUrl(request, publicUrl)}/v2` }] };
  };

  app.get("/v2/api-docs/swagger.json", { schema: { hide: true } }, async (request) => swaggerFor(request));
  app.get("/openapi.json", { schema: { hide: true } }, async (request) => openapiFor(request));
}
