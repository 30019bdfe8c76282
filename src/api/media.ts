import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { BadRequest } from "../errors.js";
import { sendBinary } from "../http/binary-response.js";
import { publicBaseUrl } from "../http/public-url.js";
import { isMultipart, readUpload, uploadRoutes } from "../http/uploads.js";
import { IdParam, Name, PageOf, PagingQuery, ResourceId, errorOf, errorResponses, pageOf } from "../http/schemas.js";
import { maxMediaNameLength, type MediaService } from "../services/media.js";

export const Media = Type.Object(
  {
    id: Type.Optional(Type.Integer({ format: "int64" })),
    accountId: Type.Optional(Type.Integer({ format: "int64" })),
    name: Type.Optional(Type.String()),
    created: Type.Optional(Type.Integer({ format: "int64", description: "unix milliseconds" })),
    lengthInBytes: Type.Optional(Type.Integer({ format: "int64" })),
    mediaType: Type.Optional(Type.String({ description: "A MIME type of media file, ex: image/jpeg, image/png, video/mp4, audio/mp3, etc" })),
    publicUrl: Type.Optional(Type.String({ description: "A URL that downloads the file without credentials" })),
  },
  { $id: "Media", description: "Represents a media file which can be added to a text message" },
);

export const MediaPage = PageOf(Type.Ref(Media), "MediaPage");

const extensions = ["bmp", "gif", "jpeg", "jpg", "m4a", "mp3", "mp4", "png", "wav"];
const downloadTypes = ["image/jpeg", "image/png", "image/x-bmp", "image/gif", "video/mp4", "audio/wav", "audio/mp3", "audio/m4a"];
const fileResponse = (description: string) => ({ 200: { description, type: "string", format: "binary" }, ...errorResponses });
const Extension = Name({ minLength: 1, maxLength: 10, description: `File extension: ${extensions.join(", ")}` });

export interface MediaRouteOptions {
  media: MediaService;
  maxUploadBytes: number;
  publicUrl?: string;
}

export const mediaRoutes: FastifyPluginAsyncTypebox<MediaRouteOptions> = async (app, { media, maxUploadBytes, publicUrl }) => {
  app.addSchema(Media);
  app.addSchema(MediaPage);

  // Only the upload route parses multipart (see uploadRoutes).
  await uploadRoutes(app, (uploads) => {
    uploads.post(
      "/media",
      {
        config: {
          // Documented as formData (see contract-documents.ts); parsed by streaming, not by schema.
          formData: {
            required: ["file"],
            properties: {
              file: { type: "file", description: "The media file: bmp, gif, jpg, m4a, mp3, mp4, png or wav" },
              name: { type: "string", description: "A name of a media file (default: the uploaded file's name)" },
            },
          },
        },
        schema: {
          tags: ["media"],
          operationId: "createMedia",
          summary: "Create media",
          description: "Uploads a media file. The format is detected from the bytes. The same bytes uploaded again give 400 ending with mediaId: <existing id>.",
          consumes: ["multipart/form-data"],
          response: { 200: Type.Ref(ResourceId), 413: errorOf("Payload too large"), ...errorResponses },
        },
      },
      async (request) => {
        if (!isMultipart(request)) throw new BadRequest("send the file as multipart/form-data, in a part named file");
        const { file: upload, fields } = await readUpload(request, {
          store: (file, filename) => media.store(file, filename),
          discard: (stored) => media.discard(stored.blob),
          maxFileBytes: maxUploadBytes,
        });
        const name = fields.name?.trim();
        const problem =
          name && name.length > maxMediaNameLength
            ? `name: must be at most ${maxMediaNameLength} characters`
            : name && /[\u0000-\u001f\u007f]/.test(name)
              ? "name: must not contain control characters"
              : undefined;
        if (problem) {
          await media.discard(upload.blob);
          throw new BadRequest(problem);
        }
        // The service owns the upload from here, and removes it if it cannot be created.
        return media.create(request.principal.accountId, upload, name);
      },
    );
  });

  app.get(
    "/media",
    {
      schema: {
        tags: ["media"],
        operationId: "findMedia",
        summary: "Find media",
        description: "Searches the account's media files by name.",
        querystring: Type.Object({
          filter: Type.Optional(Name({ maxLength: 255, description: "Case-insensitive substring of the media name" })),
          ...PagingQuery,
        }),
        response: { 200: Type.Ref(MediaPage), ...errorResponses },
      },
    },
    async (request) => {
      return media.find(request.principal.accountId, request.query.filter, pageOf(request.query), publicBaseUrl(request, publicUrl));
    },
  );

  app.get(
    "/media/:id",
    {
      schema: {
        tags: ["media"],
        operationId: "getMedia",
        summary: "Get media",
        description: "Returns a media file's metadata; no content data.",
        params: Type.Object({ id: IdParam }),
        response: { 200: Type.Ref(Media), ...errorResponses },
      },
    },
    async (request) => media.get(request.principal.accountId, request.params.id, publicBaseUrl(request, publicUrl)),
  );

  app.get(
    "/media/:id.:extension",
    {
      config: { binary: true },
      schema: {
        tags: ["media"],
        operationId: "getMediaData",
        summary: "Download media by extension",
        description: "Downloads a media file. The content type follows the extension; .mp3 of a WAV and .wav of an MP3 are converted.",
        params: Type.Object({ id: IdParam, extension: Extension }),
        produces: downloadTypes,
        response: fileResponse("The media file"),
      },
    },
    async (request, reply) => sendBinary(request, reply, media.blobs, await media.file(request.principal.accountId, request.params.id, request.params.extension)),
  );

  app.get(
    "/media/:id/file",
    {
      config: { binary: true },
      schema: {
        tags: ["media"],
        operationId: "getMediaDataBinary",
        summary: "Download a media file as stored",
        description: "Returns the uploaded bytes unchanged, with content type application/binary.",
        params: Type.Object({ id: IdParam }),
        produces: ["application/binary"],
        response: fileResponse("The stored bytes"),
      },
    },
    async (request, reply) => sendBinary(request, reply, media.blobs, await media.original(request.principal.accountId, request.params.id)),
  );

  app.get(
    "/media/public/:key.:extension",
    {
      config: { binary: true, public: true },
      schema: {
        tags: ["media"],
        operationId: "getMediaDataByKey",
        summary: "Download media by public key",
        description: "Downloads a media file by the key in its publicUrl. No credentials needed: the key is the secret.",
        params: Type.Object({ key: Name({ minLength: 1, maxLength: 64, description: "A hash-key of a media resource" }), extension: Extension }),
        produces: downloadTypes,
        response: fileResponse("The media file"),
      },
    },
    async (request, reply) => sendBinary(request, reply, media.blobs, await media.fileByPublicKey(request.params.key, request.params.extension)),
  );
};

declare module "fastify" {
  interface FastifyContextConfig {
    /** A multipart form, published as Swagger formData parameters. */
    formData?: { required: string[]; properties: Record<string, { type: string; description: string }> };
  }
}
