import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { sendBinary } from "../http/binary-response.js";
import { publicBaseUrl } from "../http/public-url.js";
import { IdParam, Name, errorResponses } from "../http/schemas.js";
import type { CallRecordingService } from "../services/call-recordings.js";

export const callRecordingProperties = {
  id: Type.Optional(Type.Integer({ format: "int64", description: "An id of a call recording" })),
  callId: Type.Optional(Type.Integer({ format: "int64", description: "An id of a call action" })),
  campaignId: Type.Optional(Type.Integer({ format: "int64", description: "Contains broadcast id if call was sent as a part of voice broadcast" })),
  name: Type.Optional(Type.String({ description: "A name of a recording" })),
  created: Type.Optional(Type.Integer({ format: "int64", description: "Creation time, unix milliseconds" })),
  lengthInBytes: Type.Optional(Type.Integer({ format: "int64", description: "A size of the MP3 in bytes" })),
  lengthInSeconds: Type.Optional(Type.Integer({ format: "int32", description: "Duration of a recording in seconds" })),
  hash: Type.Optional(Type.String({ description: "SHA-256 hex of the MP3" })),
  mp3Url: Type.Optional(Type.String({ description: "A URL of the recording's MP3 (HTTP Basic, like every operation)" })),
  state: Type.Optional(
    Type.String({
      enum: ["RECORDING", "READY", "ERROR"],
      description: "RECORDING - recording is in progress, READY - recording is ready, ERROR - error has occurred and recording can be broken",
    }),
  ),
};

export const CallRecording = Type.Object(callRecordingProperties, { $id: "CallRecording", description: "Represents a recording of a voice call" });

export const CallRecordingList = Type.Object({ items: Type.Optional(Type.Array(Type.Ref(CallRecording))) }, { $id: "CallRecordingList" });

const mp3Response = { 200: { description: "The recording as MP3", type: "string", format: "binary" }, ...errorResponses };
const RecordingName = Name({ minLength: 1, maxLength: 255, description: "A name of a recording" });

export interface CallRecordingRouteOptions {
  recordings: CallRecordingService;
  publicUrl?: string;
}

export const callRecordingRoutes: FastifyPluginAsyncTypebox<CallRecordingRouteOptions> = async (app, { recordings, publicUrl }) => {
  app.addSchema(CallRecording);
  app.addSchema(CallRecordingList);

  app.get(
    "/calls/:id/recordings",
    {
      schema: {
        tags: ["calls"],
        operationId: "getCallRecordings",
        summary: "Get call recordings",
        description: "Returns the recordings of a call; each links to its MP3.",
        params: Type.Object({ id: IdParam }),
        response: { 200: Type.Ref(CallRecordingList), ...errorResponses },
      },
    },
    async (request) => ({
      items: await recordings.list(request.principal.accountId, request.params.id, publicBaseUrl(request, publicUrl)),
    }),
  );

  // find-my-way prefers the static ".mp3" suffix, so "<name>.mp3" downloads the recording named <name>.
  app.get(
    "/calls/:id/recordings/:name.mp3",
    {
      config: { binary: true },
      schema: {
        tags: ["calls"],
        operationId: "getCallRecordingMp3ByName",
        summary: "Get call mp3 recording by name",
        description: "Downloads a call recording as MP3 (audio/mpeg). A recording that is not READY is 404.",
        params: Type.Object({ id: IdParam, name: RecordingName }),
        produces: ["audio/mpeg"],
        response: mp3Response,
      },
    },
    async (request, reply) =>
      sendBinary(request, reply, recordings.blobs, await recordings.mp3ByName(request.principal.accountId, request.params.id, request.params.name)),
  );

  app.get(
    "/calls/:id/recordings/:name",
    {
      schema: {
        tags: ["calls"],
        operationId: "getCallRecordingByName",
        summary: "Get call recording by name",
        description: "Returns a call's recording by its name; the metadata links to its MP3.",
        params: Type.Object({ id: IdParam, name: RecordingName }),
        response: { 200: Type.Ref(CallRecording), ...errorResponses },
      },
    },
    async (request) =>
      recordings.getByName(request.principal.accountId, request.params.id, request.params.name, publicBaseUrl(request, publicUrl)),
  );

  app.get(
    "/calls/recordings/:id.mp3",
    {
      config: { binary: true },
      schema: {
        tags: ["calls"],
        operationId: "getCallRecordingMp3",
        summary: "Get call recording in mp3 format",
        description: "Downloads a call recording as MP3 (audio/mpeg). A recording that is not READY is 404.",
        params: Type.Object({ id: IdParam }),
        produces: ["audio/mpeg"],
        response: mp3Response,
      },
    },
    async (request, reply) => sendBinary(request, reply, recordings.blobs, await recordings.mp3(request.principal.accountId, request.params.id)),
  );

  app.get(
    "/calls/recordings/:id",
    {
      schema: {
        tags: ["calls"],
        operationId: "getCallRecording",
        summary: "Get call recording",
        description: "Returns a call recording by its id; the metadata links to its MP3.",
        params: Type.Object({ id: IdParam }),
        response: { 200: Type.Ref(CallRecording), ...errorResponses },
      },
    },
    async (request) => recordings.get(request.principal.accountId, request.params.id, publicBaseUrl(request, publicUrl)),
  );
};
