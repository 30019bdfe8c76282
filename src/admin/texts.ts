import { Type, type Static } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { BadRequest } from "../errors.js";
import { IdParam, Name, NoContent, pageOf } from "../http/schemas.js";
import { textResults, type TextResult as TextResultName } from "../services/actions.js";
import type { BillingService } from "../services/billing.js";
import type { TextService } from "../services/texts.js";
import { ActionListQuery, AdminPage, Charge, ExternalId, Millis, adminErrors } from "./schemas.js";

const TextResult = Type.Unsafe<TextResultName>(Type.String({ enum: [...textResults] }));

const TextUsage = Type.Object({
  id: Type.Integer(),
  count: Type.Integer(),
  time: Type.Integer(),
  externalId: Type.Optional(Type.String()),
  charge: Charge,
});

const Text = Type.Object({
  id: Type.Integer(),
  accountId: Type.Integer(),
  fromNumber: Type.String(),
  toNumber: Type.String(),
  inbound: Type.Boolean(),
  state: Type.String(),
  message: Type.Optional(Type.String()),
  mediaIds: Type.Optional(Type.Array(Type.Integer())),
  segments: Type.Integer(),
  result: Type.Optional(Type.String()),
  finishTime: Type.Optional(Type.Integer()),
  campaignId: Type.Optional(Type.Integer()),
  batchId: Type.Optional(Type.Integer()),
  externalId: Type.Optional(Type.String()),
  labels: Type.Optional(Type.Array(Type.String())),
  created: Type.Integer(),
  modified: Type.Integer(),
  charge: Type.Optional(Type.Object({ texts: Type.Integer(), ...Charge.properties })),
});

// Two reports share the route: `count` alone is usage only (texts the platform does not itemise);
// fromNumber and toNumber make a text, listed by findTexts and charged by its segments.
const TextsBody = Type.Object(
  {
    count: Type.Optional(Type.Integer()),
    fromNumber: Type.Optional(Name({ maxLength: 16 })),
    toNumber: Type.Optional(Name({ maxLength: 16 })),
    message: Type.Optional(Type.String()),
    media: Type.Optional(Type.Array(IdParam, { description: "ids of the account's media the text carried" })),
    inbound: Type.Optional(Type.Boolean()),
    result: Type.Optional(TextResult),
    labels: Type.Optional(Type.Array(Name({ minLength: 1, maxLength: 255 }), { maxItems: 20 })),
    time: Type.Optional(Millis),
    externalId: Type.Optional(ExternalId),
  },
  { additionalProperties: false },
);

const itemised = ["fromNumber", "toNumber", "message", "media", "inbound", "result", "labels"] as const;

export const adminTextRoutes: FastifyPluginAsyncTypebox<{ billing: BillingService; texts: TextService }> = async (app, { billing, texts }) => {
  app.post(
    "/accounts/:id/texts",
    { schema: { params: Type.Object({ id: IdParam }), body: TextsBody, response: { 200: Type.Union([TextUsage, Text]), 201: Type.Union([TextUsage, Text]), ...adminErrors } } },
    async (request, reply) => {
      const body = request.body as Static<typeof TextsBody>;
      if (body.count !== undefined) {
        const extra = itemised.find((field) => body[field] !== undefined);
        if (extra) throw new BadRequest(`${extra}: a report with count is usage only; report a text with fromNumber and toNumber, without count`);
        const { texts: usage, created } = await billing.recordTexts(request.params.id, { count: body.count, time: body.time, externalId: body.externalId });
        return reply.code(created ? 201 : 200).send(usage);
      }
      if (body.fromNumber === undefined || body.toNumber === undefined) {
        throw new BadRequest(`body field ${body.fromNumber === undefined ? "fromNumber" : "toNumber"}: is required (or count, for usage only)`);
      }
      const { text, created } = await texts.ingest(request.params.id, { ...body, fromNumber: body.fromNumber, toNumber: body.toNumber });
      return reply.code(created ? 201 : 200).send(text);
    },
  );

  app.get(
    "/texts",
    {
      schema: {
        description: "Texts of every account, or of one, newest first; the interval is on when the text was created",
        querystring: Type.Object(ActionListQuery),
        response: { 200: AdminPage(Text), ...adminErrors },
      },
    },
    async (request) => {
      const { accountId, state, intervalBegin, intervalEnd } = request.query;
      return texts.adminList({ accountId, state, intervalBegin, intervalEnd }, pageOf(request.query));
    },
  );

  // The text; its charge stays in the ledger.
  app.delete(
    "/texts/:id",
    { schema: { params: Type.Object({ id: IdParam }), response: { 204: NoContent, ...adminErrors } } },
    async (request, reply) => {
      await texts.delete(request.params.id);
      return reply.code(204).send(undefined);
    },
  );

  app.get("/texts/:id", { schema: { params: Type.Object({ id: IdParam }), response: { 200: Text, ...adminErrors } } }, async (request) =>
    texts.adminText(request.params.id),
  );

  app.post(
    "/texts/:id/outcome",
    {
      schema: {
        params: Type.Object({ id: IdParam }),
        body: Type.Object({ result: TextResult, finishTime: Type.Optional(Millis) }, { additionalProperties: false }),
        response: { 200: Text, ...adminErrors },
      },
    },
    async (request) => (await texts.reportOutcome(request.params.id, request.body)).text,
  );
};
