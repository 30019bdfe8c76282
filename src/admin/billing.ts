import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { IdParam, Name } from "../http/schemas.js";
import type { BillingService } from "../services/billing.js";
import { adminErrors } from "./schemas.js";

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

const byAccount = Type.Object({ id: IdParam });

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
};
