import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { errorResponses } from "../http/schemas.js";
import type { BillingService } from "../services/billing.js";

const Millis = (description: string) => Type.Integer({ format: "int64", readOnly: true, description: `${description}, unix milliseconds` });
const Credits = (description: string) => Type.Number({ readOnly: true, description: `${description} (exact, at most 4 decimals)` });

export const CreditUsage = Type.Object(
  {
    intervalBegin: Type.Optional(Millis("Start of usage period")),
    intervalEnd: Type.Optional(Millis("End of usage period (exclusive)")),
    callsDurationMinutes: Type.Optional(Type.Integer({ format: "int32", readOnly: true, description: "Sum of the calls' billed minutes (each call rounded up to a whole minute)" })),
    textsSent: Type.Optional(Type.Integer({ format: "int32", readOnly: true, description: "Number of texts sent" })),
    creditsUsed: Type.Optional(Credits("Total credits used by calls and texts")),
  },
  { $id: "CreditUsage", description: "Contains statistics of credit usage" },
);

export const BillingPlanUsage = Type.Object(
  {
    intervalStart: Type.Optional(Millis("First millisecond of the current UTC month")),
    intervalEnd: Type.Optional(Millis("Last millisecond of the current UTC month")),
    remainingPlanCredits: Type.Optional(Credits("Plan credits left this month")),
    remainingPayAsYouGoCredits: Type.Optional(Credits("Pay-as-you-go credits left; negative when usage ran past them")),
    totalRemainingCredits: Type.Optional(Credits("remainingPlanCredits + remainingPayAsYouGoCredits")),
  },
  { $id: "BillingPlanUsage", description: "Contains statistics of billing plan usage" },
);

const Interval = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, format: "int64", description });

export const meBillingRoutes: FastifyPluginAsyncTypebox<{ billing: BillingService }> = async (app, { billing }) => {
  app.addSchema(CreditUsage);
  app.addSchema(BillingPlanUsage);

  app.get(
    "/me/billing/credit-usage",
    {
      schema: {
        tags: ["me"],
        operationId: "getCreditUsage",
        summary: "Find credit usage",
        description:
          "Calls and texts charged in [intervalBegin, intervalEnd), by when they happened. Without intervalBegin, all usage before intervalEnd " +
          "(reported from the earliest usage, or the account's creation if that is earlier); intervalEnd defaults to now. For authentication use api credentials.",
        querystring: Type.Object({
          intervalBegin: Type.Optional(Interval("Beginning of usage period, unix milliseconds (inclusive)")),
          intervalEnd: Type.Optional(Interval("End of usage period, unix milliseconds (exclusive)")),
        }),
        response: { 200: Type.Ref(CreditUsage), ...errorResponses },
      },
    },
    async (request) => billing.creditUsage(request.principal.account, request.query),
  );

  app.get(
    "/me/billing/plan-usage",
    {
      schema: {
        tags: ["me"],
        operationId: "getBillingPlanUsage",
        summary: "Find plan usage",
        description: "The billing plan's usage in the current UTC calendar month. For authentication use api credentials.",
        response: { 200: Type.Ref(BillingPlanUsage), ...errorResponses },
      },
    },
    async (request) => billing.planUsage(request.principal.accountId),
  );
};
