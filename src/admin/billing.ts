import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { IdParam, Name } from "../http/schemas.js";
import type { BillingService } from "../services/billing.js";
import { Charge, ExternalId, adminErrors } from "./schemas.js";

const Plan = Type.Object({
  name: Type.String(),
  monthlyCredits: Type.Number(),
  creditsPerCallMinute: Type.Number(),
  creditsPerText: Type.Number(),
});

const BillingSummary = Type.Object({
  plan: Plan,
  intervalStart: Type.Integer(),
  intervalEnd: Type.Integer(),
  remainingPlanCredits: Type.Number(),
  remainingPayAsYouGoCredits: Type.Number(),
  totalRemainingCredits: Type.Number(),
});

const TextUsage = Type.Object({
  id: Type.Integer(),
  count: Type.Integer(),
  time: Type.Integer(),
  externalId: Type.Optional(Type.String()),
  charge: Charge,
});

const byAccount = Type.Object({ id: IdParam });
const Millis = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "unix milliseconds" });

export const adminBillingRoutes: FastifyPluginAsyncTypebox<{ billing: BillingService }> = async (app, { billing }) => {
  app.get(
    "/accounts/:id/billing",
    { schema: { params: byAccount, response: { 200: BillingSummary, ...adminErrors } } },
    async (request) => billing.summary(request.params.id),
  );

  app.put(
    "/accounts/:id/plan",
    {
      schema: {
        params: byAccount,
        body: Type.Object(
          { name: Name(), monthlyCredits: Type.Number(), creditsPerCallMinute: Type.Number(), creditsPerText: Type.Number() },
          { additionalProperties: false },
        ),
        response: { 200: BillingSummary, ...adminErrors },
      },
    },
    async (request) => billing.setPlan(request.params.id, request.body),
  );

  app.post(
    "/accounts/:id/credits",
    {
      schema: {
        params: byAccount,
        body: Type.Object({ amount: Type.Number({ description: "credits to add; negative deducts" }) }, { additionalProperties: false }),
        response: { 200: BillingSummary, ...adminErrors },
      },
    },
    async (request) => billing.addCredits(request.params.id, request.body.amount),
  );

  app.post(
    "/accounts/:id/texts",
    {
      schema: {
        params: byAccount,
        body: Type.Object(
          { count: Type.Integer(), time: Type.Optional(Millis), externalId: Type.Optional(ExternalId) },
          { additionalProperties: false },
        ),
        response: { 200: TextUsage, 201: TextUsage, ...adminErrors },
      },
    },
    async (request, reply) => {
      const { texts, created } = await billing.recordTexts(request.params.id, request.body);
      return reply.code(created ? 201 : 200).send(texts);
    },
  );
};
