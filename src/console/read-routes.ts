import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { NotFound } from "../errors.js";
import { errorRef } from "../http/schemas.js";
import type { BillingService } from "../services/billing.js";
import type { CallOutbox } from "../services/call-outbox.js";
import { parsePhoneNumber } from "../services/phone-numbers.js";

// The few reads the web console needs that CallFire's API has not got. They take the same
// credentials as /v2 (the console's session, or Basic), and only ever read the caller's account.

const chartDays = 30;

const DayUsage = Type.Object({
  intervalBegin: Type.Integer({ description: "the UTC day's first millisecond" }),
  intervalEnd: Type.Integer({ description: "the next day's first millisecond (exclusive)" }),
  callsDurationMinutes: Type.Integer(),
  textsSent: Type.Integer(),
  creditsUsed: Type.Number(),
});

const Plan = Type.Object({
  name: Type.String(),
  monthlyCredits: Type.Number(),
  creditsPerCallMinute: Type.Number(),
  creditsPerText: Type.Number(),
});

const errors = { 400: errorRef, 401: errorRef, 403: errorRef, 404: errorRef, 500: errorRef };

export interface ConsoleReadRouteOptions {
  billing: BillingService;
  outbox: CallOutbox;
  /** No webhook places verification calls: their codes may be shown. */
  sandbox: boolean;
}

export const consoleReadRoutes: FastifyPluginAsyncTypebox<ConsoleReadRouteOptions> = async (app, { billing, outbox, sandbox }) => {
  app.get(
    "/billing/daily-credit-usage",
    { schema: { response: { 200: Type.Object({ items: Type.Array(DayUsage) }), ...errors } } },
    async (request) => ({ items: await billing.dailyCreditUsage(request.principal.accountId, chartDays) }),
  );

  app.get("/billing/plan", { schema: { response: { 200: Plan, ...errors } } }, async (request) => {
    return (await billing.summary(request.principal.accountId)).plan;
  });

  // Where a real telephone speaks the code, nobody else may read it: the route does not exist.
  if (!sandbox) return;
  app.get(
    "/callerids/:callerid/sandbox-code",
    {
      schema: {
        params: Type.Object({ callerid: Type.String({ minLength: 1, maxLength: 16 }) }),
        response: {
          200: Type.Object({ phoneNumber: Type.String(), verificationCode: Type.String(), expiresAt: Type.Integer() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const phoneNumber = parsePhoneNumber(request.params.callerid);
      const pending = await outbox.usableCode(request.principal.accountId, phoneNumber);
      if (!pending) {
        throw new NotFound(`no verification code is pending for ${phoneNumber}: send one with POST /v2/me/callerids/${phoneNumber}`);
      }
      return { phoneNumber, verificationCode: pending.code, expiresAt: pending.codeExpiresAt };
    },
  );
};
