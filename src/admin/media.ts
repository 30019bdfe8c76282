import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { publicBaseUrl } from "../http/public-url.js";
import { IdParam, NoContent, PagingQuery, pageOf } from "../http/schemas.js";
import type { MediaService } from "../services/media.js";
import { AdminPage, adminErrors } from "./schemas.js";

const AdminMedia = Type.Object({
  id: Type.Integer(),
  accountId: Type.Integer(),
  name: Type.String(),
  created: Type.Integer({ description: "unix milliseconds" }),
  lengthInBytes: Type.Integer(),
  mediaType: Type.String(),
  publicUrl: Type.String({ description: "downloads the file without credentials, until the media is deleted" }),
});

export const adminMediaRoutes: FastifyPluginAsyncTypebox<{ media: MediaService; publicUrl?: string }> = async (app, { media, publicUrl }) => {
  app.get(
    "/media",
    {
      schema: {
        description: "Media of every account, or of one, newest first",
        querystring: Type.Object({ accountId: Type.Optional(IdParam), ...PagingQuery }),
        response: { 200: AdminPage(AdminMedia), ...adminErrors },
      },
    },
    async (request) => media.adminList({ accountId: request.query.accountId }, pageOf(request.query), publicBaseUrl(request, publicUrl)),
  );

  app.get(
    "/media/:id",
    { schema: { params: Type.Object({ id: IdParam }), response: { 200: AdminMedia, ...adminErrors } } },
    async (request) => media.adminGet(request.params.id, publicBaseUrl(request, publicUrl)),
  );

  // The file, its renditions and their blobs; its public URL answers 404 from now on.
  app.delete(
    "/media/:id",
    { schema: { params: Type.Object({ id: IdParam }), response: { 204: NoContent, ...adminErrors } } },
    async (request, reply) => {
      await media.delete(request.params.id);
      return reply.code(204).send(undefined);
    },
  );
};
