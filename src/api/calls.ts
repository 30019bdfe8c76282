import { Type, type Static, type TSchema } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { parseFields, projectFields } from "../http/fields.js";
import { publicBaseUrl } from "../http/public-url.js";
import { IdParam, Name, PagingQuery, errorOf, errorResponses, pageOf } from "../http/schemas.js";
import { actionStates, callResults, maxRecipients, voices, type Voice as VoiceName } from "../services/actions.js";
import type { CallSender } from "../services/call-sending.js";
import type { CallService } from "../services/calls.js";
import { CallRecording } from "./call-recordings.js";

const Millis = (description: string) => Type.Integer({ format: "int64", description: `${description}, unix milliseconds` });
const enumOf = (values: readonly string[], description: string) => Type.String({ enum: [...values], description });
const Attributes = Type.Record(Type.String({ maxLength: 255 }), Type.String({ maxLength: 1000 }), {
  maxProperties: 50,
  description: "Map of string attributes associated with the action",
});
const Voice = Type.Unsafe<VoiceName>(enumOf(voices, "Text-to-speech voice"));
const CallResult = (description: string) => enumOf(callResults, description);

/** What calls and texts share, as CallFire's definitions list it (`contact` is never set here: there are no contacts). */
export function actionProperties(kind: "call" | "text") {
  return {
    id: Type.Optional(Type.Integer({ format: "int64", description: "Id of action" })),
    fromNumber: Type.Optional(Name({ description: "E.164 number" })),
    toNumber: Type.Optional(Name({ description: "E.164 number" })),
    attributes: Type.Optional(Attributes),
    state: Type.Optional(enumOf(actionStates, "State of action: READY (queued), SELECTED (taken by the platform), FINISHED")),
    campaignId: Type.Optional(Type.Integer({ format: "int64", description: "The campaignId given to the send request (opaque: there are no campaigns here)" })),
    batchId: Type.Optional(Type.Integer({ format: "int64", description: `Id of the send${kind === "call" ? "Calls" : "Texts"} request the ${kind} was sent by` })),
    inbound: Type.Optional(Type.Boolean({ description: "Is action inbound" })),
    created: Type.Optional(Millis("Creation time")),
    modified: Type.Optional(Millis("Last change")),
    labels: Type.Optional(Type.Array(Type.String(), { description: "Labels the operator gave the action when it ingested it" })),
  };
}

export const CallRecord = Type.Object(
  {
    id: Type.Optional(Type.Integer({ format: "int64", description: "Id of call record: the call's own id (a call makes one attempt)" })),
    billedAmount: Type.Optional(Type.Number({ description: "Credits the call was charged" })),
    finishTime: Type.Optional(Millis("When the call ended")),
    callerName: Type.Optional(Type.String()),
    result: Type.Optional(CallResult("Result of the call")),
    callResult: Type.Optional(CallResult("The same as result, under the name CallFire's examples use")),
    recordings: Type.Optional(Type.Array(Type.Ref(CallRecording))),
  },
  { $id: "CallRecord", description: "The outcome of a call's attempt" },
);

export const Call = Type.Object(
  {
    ...actionProperties("call"),
    finalCallResult: Type.Optional(CallResult("Result of call (LA live answer, AM answering machine, BUSY, NO_ANS no answer, CARRIER_ERROR, UNDIALED, …)")),
    records: Type.Optional(Type.Array(Type.Ref(CallRecord))),
    agentCall: Type.Optional(Type.Boolean({ description: "Is internal call to agent (never, here)" })),
  },
  { $id: "Call", description: "A call sent or received" },
);

export const CallList = Type.Object({ items: Type.Optional(Type.Array(Type.Ref(Call))) }, { $id: "CallList" });
export const CallPage = Type.Object(
  { items: Type.Optional(Type.Array(Type.Ref(Call))), limit: Type.Optional(Type.Integer()), offset: Type.Optional(Type.Integer()), totalCount: Type.Optional(Type.Integer()) },
  { $id: "CallPage" },
);

const SoundId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, format: "int64", description: "Id of one of the account's audio media" });
const Spoken = Type.String({ minLength: 1, maxLength: 4000, description: "Text to speech" });

export const CallRecipient = Type.Object(
  {
    phoneNumber: Type.Optional(Name({ maxLength: 16, description: "The number to call (E.164)" })),
    fromNumber: Type.Optional(Name({ maxLength: 16, description: "One of the account's verified caller IDs (default: the first)" })),
    contactId: Type.Optional(Type.Integer({ format: "int64", description: "Not supported: give phoneNumber" })),
    attributes: Type.Optional(Attributes),
    dialplanXml: Type.Optional(Type.String({ description: "Not supported" })),
    liveMessage: Type.Optional(Spoken),
    liveMessageSoundId: Type.Optional(SoundId),
    machineMessage: Type.Optional(Spoken),
    machineMessageSoundId: Type.Optional(SoundId),
    transferMessage: Type.Optional(Spoken),
    transferMessageSoundId: Type.Optional(SoundId),
    transferDigit: Type.Optional(Type.String({ pattern: "^[0-9*#]$", description: "The key that transfers the call" })),
    transferNumber: Type.Optional(Name({ maxLength: 16, description: "Where the transfer goes (E.164)" })),
    voice: Type.Optional(Voice),
  },
  { $id: "CallRecipient", additionalProperties: false },
);

/** findCalls and findTexts take the same filters. */
export function actionFilterQuery(kind: "call" | "text", results: readonly string[]) {
  return {
    id: Type.Optional(Type.Array(IdParam, { maxItems: 1000, description: `${kind} ids (repeat the parameter)` })),
    campaignId: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, format: "int64", description: `${kind}s sent with this campaignId; 0: those sent without one` })),
    batchId: Type.Optional(IdParam),
    fromNumber: Type.Optional(Name({ minLength: 1, maxLength: 16, description: "E.164 number" })),
    toNumber: Type.Optional(Name({ minLength: 1, maxLength: 16, description: "E.164 number" })),
    label: Type.Optional(Name({ minLength: 1, maxLength: 255 })),
    states: Type.Optional(Name({ maxLength: 200, description: `Comma list of ${actionStates.join(", ")}` })),
    results: Type.Optional(Name({ maxLength: 300, description: `Comma list of ${results.join(", ")}` })),
    inbound: Type.Optional(Type.Boolean({ description: "true: inbound only; false: outbound only" })),
    intervalBegin: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, format: "int64", description: "Created at or after, unix milliseconds" })),
    intervalEnd: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, format: "int64", description: "Created at or before, unix milliseconds" })),
    ...PagingQuery,
  };
}

/** sendCalls and sendTexts: fields applies to the answer, and Idempotency-Key makes a retry safe. */
export const sendHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Name({
      minLength: 1,
      maxLength: 255,
      description: "A retry with the same key and request answers the first response for 24 hours and sends nothing; the same key with another request is 409",
    }),
  ),
});

export const sendErrors = { ...errorResponses, 409: errorOf("Idempotency-Key reused with another request") };

/** Parsed before any work, so a bad `fields` sends nothing; applied to the answer. */
export function answerWithFields(fields: string | undefined): <T>(answer: T) => T {
  if (!fields) return (answer) => answer;
  const selection = parseFields(fields);
  return <T>(answer: T) => projectFields(answer, selection) as T;
}

export function idempotentRequest(key: string | undefined, query: Record<string, unknown>, body: unknown) {
  if (key === undefined) return undefined;
  const { fields: _fields, ...rest } = query;
  return { key, request: { query: rest, body } };
}

export interface CallRouteOptions {
  calls: CallService;
  callSender: CallSender;
  publicUrl?: string;
}

export const callRoutes: FastifyPluginAsyncTypebox<CallRouteOptions> = async (app, { calls, callSender, publicUrl }) => {
  for (const schema of [CallRecording, CallRecord, Call, CallList, CallPage, CallRecipient] as TSchema[]) app.addSchema(schema);

  const findQuery = Type.Object(actionFilterQuery("call", callResults));
  app.get(
    "/calls",
    {
      schema: {
        tags: ["calls"],
        operationId: "findCalls",
        summary: "Find calls",
        description:
          "Finds the calls sent or received by the account, newest first. totalCount is -1 beyond 10,000 matches (CallFire's \"-1 if unknown\"). " +
          "campaignId=0 finds the calls sent without a campaignId.",
        querystring: findQuery,
        response: { 200: Type.Ref(CallPage), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, offset, ...filter } = request.query as Static<typeof findQuery>;
      return calls.find(request.principal.accountId, filter, pageOf({ limit, offset }), publicBaseUrl(request, publicUrl));
    },
  );

  app.get(
    "/calls/:id",
    {
      schema: {
        tags: ["calls"],
        operationId: "getCall",
        summary: "Find a specific call",
        description: "Returns a call; a finished call has one record with its charge, result and recordings.",
        params: Type.Object({ id: IdParam }),
        response: { 200: Type.Ref(Call), ...errorResponses },
      },
    },
    async (request) => calls.get(request.principal.accountId, request.params.id, publicBaseUrl(request, publicUrl)),
  );

  const sendQuery = Type.Object({
    fields: Type.Optional(Type.String({ description: "Limit fields returned. E.g. fields=id,name or fields=items(id,name)" })),
    campaignId: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, format: "int64", description: "Kept with the calls and filtered on by findCalls (opaque: there are no campaigns here)" })),
    defaultLiveMessage: Type.Optional(Spoken),
    defaultMachineMessage: Type.Optional(Spoken),
    defaultLiveMessageSoundId: Type.Optional(SoundId),
    defaultMachineMessageSoundId: Type.Optional(SoundId),
    defaultVoice: Type.Optional(Voice),
    strictValidation: Type.Optional(Type.Boolean({ description: "Accepted for CallFire's SDKs; validation is always strict: one bad recipient refuses the whole request" })),
  });
  app.post(
    "/calls",
    {
      schema: {
        tags: ["calls"],
        operationId: "sendCalls",
        summary: "Send calls",
        description:
          `Sends up to ${maxRecipients} calls, READY, in one batch. A verified caller ID and sufficient credits are required: one call minute per call, ` +
          "counting the account's unfinished calls; calls are charged when their outcome is known. A broken rule is a 400 naming the recipient and field, and sends nothing.",
        querystring: sendQuery,
        headers: sendHeaders,
        body: Type.Array(Type.Ref(CallRecipient), { description: "Array of CallRecipient objects" }),
        response: { 200: Type.Ref(CallList), ...sendErrors },
      },
    },
    async (request) => {
      const query = request.query as Static<typeof sendQuery>;
      const answer = answerWithFields(query.fields);
      const { fields: _fields, strictValidation: _strict, ...options } = query;
      const sent = await callSender.send(
        request.principal.accountId,
        request.body as Static<typeof CallRecipient>[],
        options,
        publicBaseUrl(request, publicUrl),
        idempotentRequest(request.headers["idempotency-key"], query, request.body),
      );
      return answer(sent);
    },
  );
};
