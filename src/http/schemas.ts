import { Type, type StringOptions, type TSchema } from "@sinclair/typebox";
import type { PageRequest } from "../services/paging.js";

// Schemas shared by every resource. Definitions with an $id are registered once with Fastify and
// published under that name in the Swagger document (CallFire's definition names).

export const ErrorResponse = Type.Object(
  {
    httpStatusCode: Type.Integer(),
    internalCode: Type.Integer(),
    message: Type.String(),
    developerMessage: Type.Optional(Type.String()),
    helpLink: Type.Optional(Type.String()),
  },
  { $id: "ErrorResponse", description: "CallFire's ErrorMessage body, returned with every failure" },
);

export const ResourceId = Type.Object({ id: Type.Optional(Type.Integer({ format: "int64" })) }, { $id: "ResourceId" });

export const sharedSchemas: TSchema[] = [ErrorResponse, ResourceId];

export const errorRef = Type.Ref(ErrorResponse);

export const errorOf = (description: string) => Type.Ref(ErrorResponse, { description });

/** The error responses every CallFire operation declares. */
export const errorResponses = {
  400: errorOf("Bad request"),
  401: errorOf("Unauthorized"),
  403: errorOf("Forbidden"),
  404: errorOf("Not found"),
  500: errorOf("Internal Server Error"),
};

/**
 * Strings from clients. Every input string is free of NUL without asking: query, path and header
 * values and JSON bodies at any depth are checked by the validator (validation.ts), multipart
 * fields and file names by the upload handler (uploads.ts), each a 400 naming the field, so none
 * reaches SQL. Declare each string field by what it holds:
 *
 * - `Name`: a name, username, email, id, key or number, which cannot hold a control character
 *   (C0 or DEL): a 400 "must not contain control characters". It is published as a `pattern`.
 * - `Type.String`: free text, where tabs and newlines are legitimate (a text message's body).
 */
export const namePattern = "^[^\\u0000-\\u001f\\u007f]*$";

export const Name = (options: StringOptions = {}) => Type.String({ ...options, pattern: namePattern });

/** Ids are int64 in CallFire's spec; larger than 2^53 cannot be a row of ours. */
export const IdParam = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, format: "int64" });

const defaultLimit = 100;

// Optional with their defaults, as CallFire declares them: swagger-client 2.x (CallFire's JS SDK)
// and bravado refuse to send an operation that lacks a required parameter, and CallFire's samples
// call findMedia({filter}) with neither.
export const PagingQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: defaultLimit, description: "Max number of items returned (1-1000)" })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647, default: 0, description: "Offset to the start of the page" })),
};

/** The page a PagingQuery asks for, defaults applied. */
export function pageOf(query: { limit?: number; offset?: number }): PageRequest {
  return { limit: query.limit ?? defaultLimit, offset: query.offset ?? 0 };
}

export function PageOf(item: TSchema, id: string) {
  return Type.Object(
    {
      items: Type.Optional(Type.Array(item)),
      limit: Type.Optional(Type.Integer()),
      offset: Type.Optional(Type.Integer()),
      totalCount: Type.Optional(Type.Integer()),
    },
    { $id: id },
  );
}

/** A 200 (or 204) that carries no body, as CallFire's bodiless POSTs and DELETEs. */
export const NoContent = Type.Unsafe<undefined>({ type: "null", description: "OK - No Response" });
