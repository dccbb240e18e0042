/**
 * Errors with a status: throw `new HttpError(404, "no such user")` from a handler or a
 * middleware and the client gets that status and message. Any other thrown value becomes
 * a 500 with a generic body: the message of an unexpected error never reaches the wire.
 */
export class HttpError extends Error {
  /** HTTP status code sent to the client (400–599). */
  readonly status: number;
  /** Extra response headers, e.g. `Allow` for 405. */
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(status: number, message?: string, headers?: Record<string, string>) {
    super(message ?? defaultReason(status));
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`HttpError status must be an integer in 400..599, got ${String(status)}`);
    }
    this.name = "HttpError";
    this.status = status;
    this.headers = headers;
  }
}

/**
 * Stable codes for errors the framework itself throws at registration or configuration time,
 * and for the reasons `req.signal` aborts with (`TAKO_ERR_CLIENT_GONE`, `TAKO_ERR_HANDLER_TIMEOUT`,
 * `TAKO_ERR_DRAIN_DEADLINE`).
 */
export type TakoErrorCode =
  | "TAKO_ERR_ROUTE_PATTERN"
  | "TAKO_ERR_ROUTE_CONFLICT"
  | "TAKO_ERR_LISTEN"
  | "TAKO_ERR_ADDRESS"
  | "TAKO_ERR_CONFIG"
  | "TAKO_ERR_UNSUPPORTED"
  | "TAKO_ERR_TLS"
  | "TAKO_ERR_CLIENT_GONE"
  | "TAKO_ERR_HANDLER_TIMEOUT"
  | "TAKO_ERR_DRAIN_DEADLINE";

/**
 * A framework error with a stable `code`: thrown for programming and configuration mistakes,
 * and the `reason` of an aborted `req.signal`.
 */
export class TakoError extends Error {
  readonly code: TakoErrorCode;
  constructor(code: TakoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TakoError";
    this.code = code;
  }
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  411: "Length Required",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** The standard reason phrase for `status`, or a generic one. */
export function defaultReason(status: number): string {
  return REASONS[status] ?? (status >= 500 ? "Server Error" : "Client Error");
}

/** `req.signal`'s reason when the client went away (connection closed, stream reset) before the response was complete. */
export function clientGone(detail = "the client went away before the response was complete"): TakoError {
  return new TakoError("TAKO_ERR_CLIENT_GONE", detail);
}

/** `req.signal`'s reason when the handler did not answer within its timeout (`handlerTimeout`, `.timeout(ms)`). */
export function handlerTimedOut(ms: number): TakoError {
  return new TakoError("TAKO_ERR_HANDLER_TIMEOUT", `the handler did not answer within ${ms} ms`);
}

/** `req.signal`'s reason when the drain deadline (`drainTimeout`) cut the connection before the response was complete. */
export function drainDeadline(): TakoError {
  return new TakoError("TAKO_ERR_DRAIN_DEADLINE", "the server's drain deadline closed the connection before the response was complete");
}
