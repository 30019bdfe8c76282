import AjvCompiler from "@fastify/ajv-compiler";
import type { ValidatorFactory } from "@fastify/ajv-compiler";
import { BadRequest } from "../errors.js";

// How every route's input is validated. Fastify's default Ajv coerces types everywhere, which let
// `{"amount": true}` add a credit, `{"name": 123}` name a credential, and `?limit=1e309` or a path
// id `6e0` through as numbers. Here no part is coerced:
//
// - JSON bodies are validated exactly as sent (a number where a string is declared is a 400);
// - query, path and header strings become a number or a boolean only when they are exactly that
//   form (an integer is -?\d+ and a safe integer; a boolean is true or false), and a single value
//   becomes a one-item array where an array is declared (repeated parameters). Anything else stays a
//   string, so the schema refuses it with "must be integer", naming the parameter;
// - a NUL in any query, path or header string, or anywhere in a JSON body (keys too), is a 400
//   naming it, so none reaches SQL (PostgreSQL refuses it in text: a 500). Multipart fields and
//   file names are checked by the upload handler (uploads.ts), the Authorization header by
//   basic-auth.ts. Other control characters are refused only where a name cannot hold them: the
//   `Name` schema of schemas.ts.

type JsonSchema = { type?: string | string[]; properties?: Record<string, JsonSchema>; items?: JsonSchema };

const integer = /^-?\d+$/;
const decimal = /^-?\d+(?:\.\d+)?$/;

/** A URL string as the declared scalar type, or unchanged when it is not exactly that form. */
function convert(value: unknown, schema: JsonSchema | undefined): unknown {
  if (typeof value !== "string" || schema === undefined) return value;
  switch (schema.type) {
    case "integer": {
      const number = Number(value);
      return integer.test(value) && Number.isSafeInteger(number) ? number : value;
    }
    case "number": {
      const number = Number(value);
      return decimal.test(value) && Number.isFinite(number) ? number : value;
    }
    case "boolean":
      return value === "true" ? true : value === "false" ? false : value;
    default:
      return value;
  }
}

const partNames: Record<string, string> = { querystring: "query parameter", params: "path parameter", headers: "header" };

/** Builds a converter of a query, path or header object to the types its schema declares. */
function urlStrings(schema: JsonSchema, part: string): (data: Record<string, unknown>) => void {
  const properties = Object.entries(schema.properties ?? {});
  return (data) => {
    for (const [name, value] of Object.entries(data)) {
      const values = Array.isArray(value) ? value : [value];
      if (values.some((item) => typeof item === "string" && item.includes("\0"))) {
        throw new BadRequest(`${partNames[part]} ${name}: must not contain NUL characters`);
      }
    }
    for (const [name, property] of properties) {
      const value = data[name];
      if (value === undefined) continue;
      if (property.type === "array") {
        data[name] = (Array.isArray(value) ? value : [value]).map((item) => convert(item, property.items));
      } else if (!Array.isArray(value)) {
        data[name] = convert(value, property);
      }
    }
  };
}

/**
 * Refuses a JSON body with a NUL in any string or key, naming where. JSON can only carry one as
 * the escape \u0000, so a body without that text is not walked.
 */
export function refuseNulInJson(text: string, value: unknown): void {
  if (!text.includes("\\u0000")) return;
  const where = nulIn(value, "");
  if (where !== undefined) throw new BadRequest(`${where === "" ? "body" : `body field ${where}`}: must not contain NUL characters`);
}

function nulIn(value: unknown, path: string): string | undefined {
  if (typeof value === "string") return value.includes("\0") ? path : undefined;
  if (value === null || typeof value !== "object") return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = path === "" ? key : `${path}.${key}`;
    if (key.includes("\0")) return at;
    const found = nulIn(item, at);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Fastify's compiler factory with coercion off; query, path and header parts are converted first
 * (see above). Plugged in through `schemaController.compilersFactory.buildValidator`, one per app:
 * Fastify asks it for a compiler in each of the app's ~60 plugin contexts, and the pool gives
 * those with the same shared schemas the same Ajv (as Fastify's own factory does). A pool per
 * call built a fresh Ajv each time, compiling its meta-schema and every shared schema again: half
 * of the server's start-up CPU.
 */
export function strictValidators(): ValidatorFactory {
  const pool = AjvCompiler();
  return (externalSchemas) => strictCompiler(pool(externalSchemas, { customOptions: { coerceTypes: false, useDefaults: true, removeAdditional: false } }));
}

function strictCompiler(compile: ReturnType<ReturnType<typeof AjvCompiler>>): ReturnType<ValidatorFactory> {
  return (route) => {
    const validate = compile(route);
    if (route.httpPart === undefined || route.httpPart === "body") return validate;
    const toDeclaredTypes = urlStrings(route.schema as JsonSchema, route.httpPart);
    const validateStrings = (data: Record<string, unknown> | null) => {
      try {
        if (data) toDeclaredTypes(data);
      } catch (error) {
        return { error: error as Error };
      }
      const valid = validate(data);
      validateStrings.errors = validate.errors;
      return valid;
    };
    validateStrings.errors = validate.errors;
    return validateStrings as unknown as typeof validate;
  };
}
