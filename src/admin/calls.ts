import { Type, type Static } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import { callRecordingProperties } from "../api/call-recordings.js";
import { BadRequest } from "../errors.js";
import { publicBaseUrl } from "../http/public-url.js";
import { isMultipart, readUpload, uploadRoutes } from "../http/uploads.js";
import { IdParam, Name, NoContent, PagingQuery, errorRef, pageOf } from "../http/schemas.js";
import type { CallRecordingService } from "../services/call-recordings.js";
import { callResults, type CallResult as CallResultName } from "../services/actions.js";
import type { CallService } from "../services/calls.js";
import { ActionListQuery, AdminPage, Charge, ExternalId, Millis, adminErrors } from "./schemas.js";

const Call = Type.Object({
  id: Type.Integer(),
  accountId: Type.Integer(),
  fromNumber: Type.String(),
  toNumber: Type.String(),
  inbound: Type.Boolean(),
  state: Type.String(),
  result: Type.Optional(Type.String()),
  startTime: Type.Optional(Type.Integer()),
  durationSeconds: Type.Optional(Type.Integer()),
  finishTime: Type.Optional(Type.Integer()),
  callerName: Type.Optional(Type.String()),
  campaignId: Type.Optional(Type.Integer()),
  batchId: Type.Optional(Type.Integer()),
  externalId: Type.Optional(Type.String()),
  labels: Type.Optional(Type.Array(Type.String())),
  created: Type.Integer(),
  modified: Type.Integer(),
  charge: Type.Optional(Type.Object({ minutes: Type.Integer(), ...Charge.properties })),
});

const CallResult = Type.Unsafe<CallResultName>(Type.String({ enum: [...callResults] }));

const CallBody = Type.Object(
  {
    fromNumber: Name({ maxLength: 16 }),
    toNumber: Name({ maxLength: 16 }),
    startTime: Millis,
    durationSeconds: Type.Integer(),
    campaignId: Type.Optional(IdParam),
    externalId: Type.Optional(ExternalId),
    inbound: Type.Optional(Type.Boolean({ description: "a call the account received (default false)" })),
    result: Type.Optional(CallResult),
    labels: Type.Optional(Type.Array(Name({ minLength: 1, maxLength: 255 }), { maxItems: 20 })),
  },
  { additionalProperties: false },
);

const CallOutcomeBody = Type.Object(
  {
    result: CallResult,
    durationSeconds: Type.Integer({ description: "how long the call was connected; its started minutes are charged" }),
    finishTime: Type.Optional(Millis),
    callerName: Type.Optional(Name({ minLength: 1, maxLength: 255 })),
  },
  { additionalProperties: false },
);

const CreateRecordingBody = Type.Object(
  { name: Name(), state: Type.Optional(Type.Literal("RECORDING")) },
  { additionalProperties: false },
);

const Recording = Type.Object(callRecordingProperties);
const AdminRecording = Type.Object({ ...callRecordingProperties, accountId: Type.Integer() });
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

/** The multipart form of a recording upload, as /admin/v1/openapi.json publishes it. */
function recordingForm(fields: Array<"name" | "file">) {
  const properties = {
    name: { type: "string", description: "The recording's name, unique within its call" },
    file: { type: "file", description: "MP3 or WAV audio" },
  };
  return { required: fields, properties: Object.fromEntries(fields.map((field) => [field, properties[field]])) };
}

export interface AdminCallRouteOptions {
  calls: CallService;
  recordings: CallRecordingService;
  recordingMaxBytes: number;
  publicUrl?: string;
}

export const adminCallRoutes: FastifyPluginAsyncTypebox<AdminCallRouteOptions> = async (app, { calls, recordings, recordingMaxBytes, publicUrl }) => {
  /** The audio of a recording upload, stored as it streams in, and its fields (see readUpload). */
  const readRecordingUpload = (request: FastifyRequest) =>
    readUpload(request, {
      store: (file) => recordings.storeAudio(file),
      discard: (audio) => recordings.discardAudio(audio),
      maxFileBytes: recordingMaxBytes,
    });

  app.post(
    "/accounts/:id/calls",
    { schema: { params: Type.Object({ id: IdParam }), body: CallBody, response: { 200: Call, 201: Call, ...adminErrors } } },
    async (request, reply) => {
      const { call, created } = await calls.ingest(request.params.id, request.body);
      return reply.code(created ? 201 : 200).send(call);
    },
  );

  app.get(
    "/calls",
    {
      schema: {
        description: "Calls of every account, or of one, newest first; the interval is on the call's start",
        querystring: Type.Object(ActionListQuery),
        response: { 200: AdminPage(Call), ...adminErrors },
      },
    },
    async (request) => {
      const { accountId, state, intervalBegin, intervalEnd } = request.query;
      return calls.adminList({ accountId, state, intervalBegin, intervalEnd }, pageOf(request.query));
    },
  );

  app.get(
    "/calls/:id",
    { schema: { params: Type.Object({ id: IdParam }), response: { 200: Call, ...adminErrors } } },
    async (request) => calls.adminCall(request.params.id),
  );

  // The call with its recordings and their audio; its charge stays in the ledger.
  app.delete(
    "/calls/:id",
    { schema: { params: Type.Object({ id: IdParam }), response: { 204: NoContent, ...adminErrors } } },
    async (request, reply) => {
      await calls.delete(request.params.id);
      return reply.code(204).send(undefined);
    },
  );

  app.get(
    "/recordings",
    {
      schema: {
        description: "Recordings of every account, or of one account or call, newest first",
        querystring: Type.Object({ accountId: Type.Optional(IdParam), callId: Type.Optional(IdParam), ...PagingQuery }),
        response: { 200: AdminPage(AdminRecording), ...adminErrors },
      },
    },
    async (request) => {
      const { accountId, callId } = request.query;
      return recordings.adminList({ accountId, callId }, pageOf(request.query), publicBaseUrl(request, publicUrl));
    },
  );

  app.get(
    "/recordings/:id",
    { schema: { params: Type.Object({ id: IdParam }), response: { 200: AdminRecording, ...adminErrors } } },
    async (request) => recordings.adminGet(request.params.id, publicBaseUrl(request, publicUrl)),
  );

  // The recording and its MP3; the call and its charge stay.
  app.delete(
    "/recordings/:id",
    { schema: { params: Type.Object({ id: IdParam }), response: { 204: NoContent, ...adminErrors } } },
    async (request, reply) => {
      await recordings.delete(request.params.id);
      return reply.code(204).send(undefined);
    },
  );

  // The platform's report of a sent call's outcome: the first charges the call, a repeat answers
  // the same (200), another outcome for a finished call is a 409.
  app.post(
    "/calls/:id/outcome",
    { schema: { params: Type.Object({ id: IdParam }), body: CallOutcomeBody, response: { 200: Call, ...adminErrors } } },
    async (request) => (await calls.reportOutcome(request.params.id, request.body)).call,
  );

  // Only the two routes that take audio parse multipart: see uploadRoutes.
  await uploadRoutes(app, (uploads) => {
    uploads.post(
      "/calls/:callId/recordings",
      {
        config: { formData: recordingForm(["name", "file"]) },
        schema: {
          params: Type.Object({ callId: IdParam }),
          // JSON creates a recording in progress; multipart (name and file, in either order) attaches a finished one.
          body: { content: { "application/json": { schema: CreateRecordingBody } } },
          response: { 200: Recording, 201: Recording, ...recordingErrors },
        },
        onRequest: requireContentType(
          ["application/json", "multipart/form-data"],
          'send application/json {"name":"…","state":"RECORDING"} for a recording in progress, or multipart/form-data (name and file) for a finished one',
        ),
      },
      async (request, reply) => {
        const base = publicBaseUrl(request, publicUrl);
        const { callId } = request.params;
        if (!isMultipart(request)) {
          const { name } = request.body as Static<typeof CreateRecordingBody>;
          return reply.code(201).send(await recordings.create(callId, name, base));
        }
        // The audio is stored before the name may have arrived; the row is created after the body.
        const { file: audio, fields } = await readRecordingUpload(request);
        if (fields.name === undefined) {
          await recordings.discardAudio(audio);
          throw new BadRequest("the field name is required");
        }
        // The same file under the same name again is a retry: the first recording, 200.
        const { recording, created } = await recordings.attachAudio(callId, fields.name, audio, base);
        return reply.code(created ? 201 : 200).send(recording);
      },
    );

    uploads.put(
      "/recordings/:id/audio",
      {
        config: { formData: recordingForm(["file"]) },
        schema: { params: Type.Object({ id: IdParam }), response: { 200: Recording, ...recordingErrors } },
        onRequest: requireContentType(["multipart/form-data"], "send the audio as multipart/form-data, in a part named file"),
      },
      async (request) => {
        const { file: audio } = await readRecordingUpload(request);
        return recordings.complete(request.params.id, audio, publicBaseUrl(request, publicUrl));
      },
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
