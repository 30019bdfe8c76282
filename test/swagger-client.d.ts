// swagger-client ships no type declarations; the tests use it as CallFire's SDK does, untyped.
declare module "swagger-client";

// oas-validator (the OpenAPI 3 validator of swagger2openapi's kit) ships none either.
declare module "oas-validator" {
  export function validate(document: object, options: Record<string, unknown>): Promise<{ valid: boolean; warnings?: unknown[] }>;
}
