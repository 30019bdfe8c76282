// swagger-client ships no type declarations; the tests use it as CallFire's SDK does, untyped.
declare module "swagger-client";
