import { Type, type Static, type TSchema } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { publicBaseUrl } from "../http/public-url.js";
import { IdParam, Name, errorResponses, pageOf } from "../http/schemas.js";
import { maxRecipients, textResults } from "../services/actions.js";
import type { TextSender } from "../services/text-sending.js";
import { maxTextLength, maxTextMedia, type TextService } from "../services/texts.js";
import { actionFilterQuery, actionProperties, answerWithFields, idempotentRequest, sendErrors, sendHeaders } from "./calls.js";
import { Media } from "./media.js";

const Millis = (description: string) => Type.Integer({ format: "int64", description: `${description}, unix milliseconds` });
const TextResult = (description: string) => Type.String({ enum: [...textResults], description });
const Message = Type.String({
  minLength: 1,
  maxLength: maxTextLength,
  description: `Text message: 1 text up to 160 characters; longer ones (up to ${maxTextLength}) are billed per 153-character segment`,
});

export const TextRecord = Type.Object(
  {
    id: Type.Optional(Type.Integer({ format: "int64", description: "Id of text record: the text's own id (a text makes one attempt)" })),
    billedAmount: Type.Optional(Type.Number({ description: "Credits the text was charged" })),
    finishTime: Type.Optional(Millis("When the text was delivered or failed")),
    message: Type.Optional(Type.String()),
    textResult: Type.Optional(TextResult("Result of text")),
  },
  { $id: "TextRecord" },
);

export const Text = Type.Object(
  {
    ...actionProperties("text"),
    message: Type.Optional(Type.String({ description: "Text message" })),
    finalTextResult: Type.Optional(TextResult("Result of text (SENT, RECEIVED, CARRIER_ERROR, UNDIALED, …)")),
    records: Type.Optional(Type.Array(Type.Ref(TextRecord))),
    media: Type.Optional(Type.Array(Type.Ref(Media))),
  },
  { $id: "Text", description: "A text sent or received" },
);

export const TextList = Type.Object({ items: Type.Optional(Type.Array(Type.Ref(Text))) }, { $id: "TextList" });
export const TextPage = Type.Object(
  { items: Type.Optional(Type.Array(Type.Ref(Text))), limit: Type.Optional(Type.Integer()), offset: Type.Optional(Type.Integer()), totalCount: Type.Optional(Type.Integer()) },
  { $id: "TextPage" },
);

const MediaId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, format: "int64", description: "Id of one of the account's media" });

// CallFire's TextRecipient.media is an array of Media: only the id is read (a bare id works too).
export const TextRecipient = Type.Object(
  {
    phoneNumber: Type.Optional(Name({ maxLength: 16, description: "E.164 number" })),
    fromNumber: Type.Optional(Name({ maxLength: 16, description: "One of the account's verified caller IDs (default: the first)" })),
    contactId: Type.Optional(Type.Integer({ format: "int64", description: "Not supported: give phoneNumber" })),
    attributes: Type.Optional(Type.Record(Type.String({ maxLength: 255 }), Type.String({ maxLength: 1000 }), { maxProperties: 50 })),
    message: Type.Optional(Message),
    media: Type.Optional(
      Type.Array(Type.Union([Type.Object({ id: Type.Optional(MediaId) }), MediaId]), {
        maxItems: maxTextMedia,
        description: "The account's media to attach: Media objects with an id, or bare ids",
      }),
    ),
  },
  { $id: "TextRecipient", additionalProperties: false },
);

export interface TextRouteOptions {
  texts: TextService;
  textSender: TextSender;
  publicUrl?: string;
}

export const textRoutes: FastifyPluginAsyncTypebox<TextRouteOptions> = async (app, { texts, textSender, publicUrl }) => {
  for (const schema of [Media, TextRecord, Text, TextList, TextPage, TextRecipient] as TSchema[]) app.addSchema(schema);

  const findQuery = Type.Object(actionFilterQuery("text", textResults));
  app.get(
    "/texts",
    {
      schema: {
        tags: ["texts"],
        operationId: "findTexts",
        summary: "Find texts",
        description:
          "Finds the texts sent or received by the account, newest first. totalCount is -1 beyond 10,000 matches (CallFire's \"-1 if unknown\"). " +
          "campaignId=0 finds the texts sent without a campaignId.",
        querystring: findQuery,
        response: { 200: Type.Ref(TextPage), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, offset, ...filter } = request.query as Static<typeof findQuery>;
      return texts.find(request.principal.accountId, filter, pageOf({ limit, offset }), publicBaseUrl(request, publicUrl));
    },
  );

  app.get(
    "/texts/:id",
    {
      schema: {
        tags: ["texts"],
        operationId: "getText",
        summary: "Find a specific text",
        description: "Returns a text; a finished text has one record with its charge and result.",
        params: Type.Object({ id: IdParam }),
        response: { 200: Type.Ref(Text), ...errorResponses },
      },
    },
    async (request) => texts.get(request.principal.accountId, request.params.id, publicBaseUrl(request, publicUrl)),
  );

  const sendQuery = Type.Object({
    fields: Type.Optional(Type.String({ description: "Limit fields returned. E.g. fields=id,name or fields=items(id,name)" })),
    campaignId: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, format: "int64", description: "Kept with the texts and filtered on by findTexts (opaque: there are no campaigns here)" })),
    defaultMessage: Type.Optional(Message),
    strictValidation: Type.Optional(Type.Boolean({ description: "Accepted for CallFire's SDKs; validation is always strict: one bad recipient refuses the whole request" })),
  });
  app.post(
    "/texts",
    {
      schema: {
        tags: ["texts"],
        operationId: "sendTexts",
        summary: "Send texts",
        description:
          `Sends up to ${maxRecipients} texts, READY, in one batch. A verified caller ID and sufficient credits are required: one text per 160 characters ` +
          "(longer messages: per 153-character segment), counting the account's unfinished texts; texts are charged when their outcome is known. " +
          "A broken rule is a 400 naming the recipient and field, and sends nothing.",
        querystring: sendQuery,
        headers: sendHeaders,
        body: Type.Array(Type.Ref(TextRecipient), { description: "Array of TextRecipient objects" }),
        response: { 200: Type.Ref(TextList), ...sendErrors },
      },
    },
    async (request) => {
      const query = request.query as Static<typeof sendQuery>;
      const answer = answerWithFields(query.fields);
      const { fields: _fields, strictValidation: _strict, ...options } = query;
      const sent = await textSender.send(
        request.principal.accountId,
        request.body as Static<typeof TextRecipient>[],
        options,
        publicBaseUrl(request, publicUrl),
        idempotentRequest(request.headers["idempotency-key"], query, request.body),
      );
      return answer(sent);
    },
  );
};
