import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { IdParam, PagingQuery, errorRef, pageOf } from "../http/schemas.js";
import type { CallStatus as CallStatusName, DeliveryType as DeliveryTypeName } from "../db/tables.js";
import { deliveryTypes, type CallOutbox } from "../services/call-outbox.js";

const CallStatus = Type.Unsafe<CallStatusName>(Type.String({ enum: ["PENDING", "SENT", "FAILED"] }));
const DeliveryType = Type.Unsafe<DeliveryTypeName>(Type.String({ enum: deliveryTypes }));

const OutboxEntry = Type.Object({
  id: Type.String({ description: "the stable delivery id the webhook receives" }),
  type: DeliveryType,
  accountId: Type.Integer(),
  callId: Type.Optional(Type.Integer()),
  textId: Type.Optional(Type.Integer()),
  to: Type.String({ description: "E.164 digits without +" }),
  code: Type.Optional(Type.String({ description: "absent once the code expired or can no longer be used" })),
  message: Type.Optional(Type.String()),
  codeExpiresAt: Type.Optional(Type.Integer({ description: "unix milliseconds" })),
  status: CallStatus,
  attempts: Type.Integer(),
  lastError: Type.Optional(Type.String()),
  nextAttemptAt: Type.Optional(Type.Integer({ description: "unix milliseconds; PENDING calls only" })),
  created: Type.Integer({ description: "unix milliseconds" }),
  updated: Type.Integer({ description: "unix milliseconds" }),
});

export const adminOutboxRoutes: FastifyPluginAsyncTypebox<{ outbox: CallOutbox }> = async (app, { outbox }) => {
  app.get(
    "/outbox",
    {
      schema: {
        querystring: Type.Object({
          accountId: Type.Optional(IdParam),
          to: Type.Optional(Type.String({ description: "a phone number as the API takes it; anything else matches no call" })),
          status: Type.Optional(CallStatus),
          type: Type.Optional(DeliveryType),
          ...PagingQuery,
        }),
        response: {
          200: Type.Object({ items: Type.Array(OutboxEntry), limit: Type.Integer(), offset: Type.Integer(), totalCount: Type.Integer() }),
          400: errorRef,
          401: errorRef,
          500: errorRef,
        },
      },
    },
    async (request) => {
      const { accountId, to, status, type } = request.query;
      return outbox.list({ accountId, to, status, type }, pageOf(request.query));
    },
  );
};
