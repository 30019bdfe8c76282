import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { ErrorResponse, Name, NoContent, errorResponses } from "../http/schemas.js";
import type { CallerIdService } from "../services/caller-ids.js";

export const CallerId = Type.Object(
  { phoneNumber: Type.Optional(Type.String({ description: "E.164 digits without +, e.g. 12135551189" })) },
  { $id: "CallerId", description: "A verified caller ID" },
);

export const CallerIdList = Type.Object({ items: Type.Optional(Type.Array(Type.Ref(CallerId))) }, { $id: "CallerIdList" });

// CallFire declares the code a string, and so does the published definition: Swagger 2.0 has one
// type per schema (bravado refuses a list of types, or anyOf). CallFire's JS and Python samples
// send a JSON number (1234), so the route takes either as it is, without relying on coercion.
export const CallerIdVerificationRequest = Type.Object(
  { verificationCode: Type.String({ description: "The code the verification call said: its digits (a JSON number of digits is taken too)" }) },
  { $id: "CallerIdVerificationRequest" },
);

const VerificationCodeBody = Type.Object({
  verificationCode: Type.Union([Type.String({ maxLength: 64 }), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })]),
});

// The longest E.164 number is "+" and 15 digits: anything longer is refused before any work.
const byCallerId = {
  params: Type.Object({
    callerid: Name({ minLength: 1, maxLength: 16, description: "E.164 number: 12135551189, +12135551189, or a 10-digit North American number" }),
  }),
};

const errors = { ...errorResponses, 429: Type.Ref(ErrorResponse, { description: "Too many requests" }) };

export const meCallerIdRoutes: FastifyPluginAsyncTypebox<{ callerIds: CallerIdService }> = async (app, { callerIds }) => {
  app.addSchema(CallerId);
  app.addSchema(CallerIdList);
  app.addSchema(CallerIdVerificationRequest);

  app.get(
    "/me/callerids",
    {
      schema: {
        tags: ["me"],
        operationId: "getCallerIds",
        summary: "Find caller ids",
        description: "Returns the account's verified caller ids; a number that is not listed is not verified.",
        response: { 200: Type.Ref(CallerIdList), ...errorResponses },
      },
    },
    async (request) => {
      const numbers = await callerIds.listVerified(request.principal.accountId);
      return { items: numbers.map((phoneNumber) => ({ phoneNumber })) };
    },
  );

  app.post(
    "/me/callerids/:callerid",
    {
      schema: {
        tags: ["me"],
        operationId: "sendVerificationCodeToCallerId",
        summary: "Send verification code",
        description:
          "Calls the number and speaks a new verification code, which replaces any pending one and expires after 10 minutes " +
          "(by default). One call per number per minute and 20 per account per hour by default; beyond, 429 with Retry-After. " +
          "A number that is already verified is a 400.",
        ...byCallerId,
        response: { 200: NoContent, ...errors },
      },
    },
    async (request, reply) => {
      await callerIds.sendCode(request.principal.accountId, request.params.callerid);
      return reply.code(200).send(undefined);
    },
  );

  app.post(
    "/me/callerids/:callerid/verification-code",
    {
      config: { publishedBody: Type.Ref(CallerIdVerificationRequest) },
      schema: {
        tags: ["me"],
        operationId: "verifyCallerId",
        summary: "Verify caller id",
        description:
          "Submits the code the verification call said: true, and the number is verified (the same code again on a verified number: true again). " +
          "Any other code of digits is false: a wrong one (5 wrong codes while a code is pending disable it), or none pending, expired or disabled. " +
          "A code that is not digits is a 400.",
        ...byCallerId,
        body: VerificationCodeBody,
        response: { 200: Type.Boolean({ description: "Whether the number is now verified" }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const verified = await callerIds.verify(request.principal.accountId, request.params.callerid, request.body.verificationCode);
      return reply.code(200).send(verified);
    },
  );
};
