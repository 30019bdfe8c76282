// Errors are values with a kind. Services throw them; src/http/error-handler.ts renders every one
// of them as CallFire's ErrorMessage body in exactly one place.

export abstract class ApiError extends Error {
  abstract readonly statusCode: number;
  /** Extra response headers the error implies (Retry-After, WWW-Authenticate, Content-Range). */
  readonly headers: Record<string, string> = {};

  constructor(
    message: string,
    readonly developerMessage?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends ApiError {
  readonly statusCode = 400;
}

const basicChallenge = 'Basic realm="switchboard"';

export class Unauthorized extends ApiError {
  readonly statusCode = 401;
  /** `challenge`: the console's requests get one that is not Basic, which would open the browser's login dialog. */
  constructor(message = "invalid or missing credentials", challenge = basicChallenge) {
    super(message);
    this.headers["WWW-Authenticate"] = challenge;
  }
}

export class Forbidden extends ApiError {
  readonly statusCode = 403;
}

export class NotFound extends ApiError {
  readonly statusCode = 404;
}

export class MethodNotAllowed extends ApiError {
  readonly statusCode = 405;
  constructor(method: string, path: string, allowed: string[]) {
    super(`method ${method} is not allowed on ${path}`);
    this.headers["Allow"] = allowed.join(", ");
  }
}

export class RequestTimeout extends ApiError {
  readonly statusCode = 408;
}

export class Conflict extends ApiError {
  readonly statusCode = 409;
}

export class PayloadTooLarge extends ApiError {
  readonly statusCode = 413;
}

export class RangeNotSatisfiable extends ApiError {
  readonly statusCode = 416;
  constructor(size: number) {
    super("requested range not satisfiable");
    this.headers["Content-Range"] = `bytes */${size}`;
  }
}

export class TooManyRequests extends ApiError {
  readonly statusCode = 429;
  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.headers["Retry-After"] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  }
}

export class ServiceUnavailable extends ApiError {
  readonly statusCode = 503;
}

/**
 * Not an answer: the client closed the connection before its request was complete (an upload cut
 * off halfway), so there is no one to answer. Logged at info level, never as a server error.
 */
export class ClientGone extends Error {
  override readonly name = "ClientGone";
}
