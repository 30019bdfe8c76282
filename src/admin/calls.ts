import type { Readable } from "node:stream";
import { Type, type Static } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import { callRecordingProperties } from "../api/call-recordings.js";
import { BadRequest } from "../errors.js";
import { publicBaseUrl } from "../http/public-url.js";
import { uploadRoutes } from "../http/uploads.js";
import { IdParam, Name, errorRef } from "../http/schemas.js";
import type { CallRecordingService } from "../services/call-recordings.js";
import type { CallService } from "../services/calls.js";
import { Charge, ExternalId, adminErrors } from "./schemas.js";

const Call = Type.Object({
  id: Type.Integer(),
  accountId: Type.Integer(),
  fromNumber: Type.String(),
  toNumber: Type.String(),
  startTime: Type.Integer(),
  durationSeconds: Type.Integer(),
  campaignId: Type.Optional(Type.Integer()),
  externalId: Type.Optional(Type.String()),
  created: Type.Integer(),
  charge: Type.Object({ minutes: Type.Integer(), ...Charge.properties }),
});

const CallBody = Type.Object(
  {
    fromNumber: Name({ maxLength: 16 }),
    toNumber: Name({ maxLength: 16 }),
    startTime: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "unix milliseconds" }),
    durationSeconds: Type.Integer(),
    campaignId: Type.Optional(IdParam),
    externalId: Type.Optional(ExternalId),
  },
  { additionalProperties: false },
);

const CreateRecordingBody = Type.Object(
  { name: Name(), state: Type.Optional(Type.Literal("RECORDING")) },
  { additionalProperties: false },
);

const Recording = Type.Object(callRecordingProperties);
const recordingErrors = { ...adminErrors, 413: errorRef };

/**
 * Refuses, before Fastify parses the body, a request whose Content-Type is not one of `types`.
 * Fastify skips a body schema keyed by content type for any other type, and answers a type it
 * has no parser for in words that do not help here.
 */
function requireContentType(types: string[], whatToSend: string) {
  return async (request: FastifyRequest) => {
    const type = request.headers["content-type"]?.split(";")[0]!.trim().toLowerCase();
    if (type === undefined || !types.includes(type)) throw new BadRequest(whatToSend);
  };
}

export interface AdminCallRouteOptions {
  calls: CallService;
  recordings: CallRecordingService;
  recordingMaxBytes: number;
  publicUrl?: string;
}

export const adminCallRoutes: FastifyPluginAsyncTypebox<AdminCallRouteOptions> = async (app, { calls, recordings, recordingMaxBytes, publicUrl }) => {
  /**
   * Streams the part named `file` to `use`, with the form fields sent before it. Fields after the
   * file are not seen: send `name` first (curl -F sends parts in command-line order).
   */
  const withUploadedFile = async <T>(request: FastifyRequest, use: (fields: Record<string, string>, file: Readable) => Promise<T>): Promise<T> => {
    const fields: Record<string, string> = {};
    for await (const part of request.parts()) {
      if (part.type === "field") {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      if (part.fieldname !== "file") {
        part.file.resume();
        throw new BadRequest(`unexpected file part "${part.fieldname}": send the audio in a part named file`);
      }
      try {
        return await use(fields, part.file);
      } finally {
        // Whatever was not read (the upload was refused early) is drained so the reply can go out.
        part.file.resume();
      }
    }
    throw new BadRequest("the part named file is required");
  };

  app.post(
    "/accounts/:id/calls",
    { schema: { params: Type.Object({ id: IdParam }), body: CallBody, response: { 200: Call, 201: Call, ...adminErrors } } },
    async (request, reply) => {
      const { call, created } = await calls.ingest(request.params.id, request.body);
      return reply.code(created ? 201 : 200).send(call);
    },
  );

  // Only the two routes that take audio parse multipart: see uploadRoutes.
  await uploadRoutes(app, { maxFileBytes: recordingMaxBytes, files: 1 }, (uploads) => {
    uploads.post(
      "/calls/:callId/recordings",
      {
        schema: {
          params: Type.Object({ callId: IdParam }),
          // JSON creates a recording in progress; multipart (name, then file) attaches a finished one.
          body: { content: { "application/json": { schema: CreateRecordingBody } } },
          response: { 201: Recording, ...recordingErrors },
        },
        onRequest: requireContentType(
          ["application/json", "multipart/form-data"],
          'send application/json {"name":"…","state":"RECORDING"} for a recording in progress, or multipart/form-data (name, then file) for a finished one',
        ),
      },
      async (request, reply) => {
        const base = publicBaseUrl(request, publicUrl);
        const { callId } = request.params;
        if (!request.isMultipart()) {
          const { name } = request.body as Static<typeof CreateRecordingBody>;
          return reply.code(201).send(await recordings.create(callId, name, base));
        }
        const recording = await withUploadedFile(request, (fields, file) => {
          if (fields.name === undefined) throw new BadRequest("the field name is required, before the part named file");
          return recordings.attach(callId, fields.name, file, base);
        });
        return reply.code(201).send(recording);
      },
    );

    uploads.put(
      "/recordings/:id/audio",
      {
        schema: { params: Type.Object({ id: IdParam }), response: { 200: Recording, ...recordingErrors } },
        onRequest: requireContentType(["multipart/form-data"], "send the audio as multipart/form-data, in a part named file"),
      },
      async (request) => withUploadedFile(request, (_fields, file) => recordings.complete(request.params.id, file, publicBaseUrl(request, publicUrl))),
    );
  });

  app.put(
    "/recordings/:id",
    {
      schema: {
        params: Type.Object({ id: IdParam }),
        body: Type.Object({ state: Type.Literal("ERROR") }, { additionalProperties: false }),
        response: { 200: Recording, ...recordingErrors },
      },
      onRequest: requireContentType(["application/json"], 'send application/json {"state":"ERROR"}'),
    },
    async (request) => recordings.markError(request.params.id, publicBaseUrl(request, publicUrl)),
  );
};
