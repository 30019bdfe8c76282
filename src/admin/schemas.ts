import { Type, type TSchema } from "@sinclair/typebox";
import type { ActionState } from "../db/tables.js";
import { IdParam, Name, PagingQuery, errorRef } from "../http/schemas.js";

// Schemas shared by the operator API's route files.

export const adminErrors = { 400: errorRef, 401: errorRef, 404: errorRef, 409: errorRef, 500: errorRef };

export const Charge = Type.Object({ credits: Type.Number(), planCredits: Type.Number(), payAsYouGoCredits: Type.Number() });

export const ExternalId = Name({ minLength: 1, maxLength: 255, description: "your id for this report: a retry with the same id is not charged again" });

export const Millis = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "unix milliseconds" });

/** The page every /admin/v1 list answers: all four keys. */
export function AdminPage(item: TSchema) {
  return Type.Object({ items: Type.Array(item), limit: Type.Integer(), offset: Type.Integer(), totalCount: Type.Integer({ description: "-1 past 10000 matches" }) });
}

/** The filters of the operator's call and text lists. */
export const ActionListQuery = {
  accountId: Type.Optional(IdParam),
  state: Type.Optional(Type.Unsafe<ActionState>(Type.String({ enum: ["READY", "SELECTED", "FINISHED"] }))),
  intervalBegin: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "unix milliseconds: from this time on (inclusive)" })),
  intervalEnd: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "unix milliseconds: before this time (exclusive)" })),
  ...PagingQuery,
};
