import type { Middleware } from "./types.ts";

/** Options of {@link requestId}. */
export interface RequestIdOptions {
  /** The header read and written. Default `"x-request-id"`. */
  readonly header?: string;
  /**
   * Keep a valid id the client (or the proxy in front) sent. Default `true`. Set `false` when
   * clients are not trusted to choose ids that end up in your logs.
   */
  readonly trustIncoming?: boolean;
  /** Makes a new id. Default `crypto.randomUUID()`. */
  readonly generate?: () => string;
}

/**
 * What an incoming id may be: 1–128 characters of letters, digits and `-_.:+=@/`. Anything
 * else (too long, spaces, quotes, control characters: log injection) is replaced by a new id.
 */
const VALID_ID = /^[A-Za-z0-9\-_.:+=@/]{1,128}$/;

/** True when `value` is an id {@link requestId} keeps. */
export const isValidRequestId = (value: string): boolean => VALID_ID.test(value);

const randomId = (): string => crypto.randomUUID();

/**
 * Middleware that gives every request an id: the incoming `X-Request-Id` when it is valid
 * ({@link isValidRequestId}; bounded length, safe characters), else a new UUID. Handlers read it
 * as `req.id`; the response carries it in the same header (also error responses the router
 * makes). `accessLog()` and the diagnostics channel see it as `message.req.id`.
 *
 * ```ts
 * router.middleware(requestId());
 * router.get("/", (req) => `your request is ${req.id}`);
 * ```
 */
export function requestId(options: RequestIdOptions = {}): Middleware {
  const header = (options.header ?? "x-request-id").toLowerCase();
  const trust = options.trustIncoming ?? true;
  const generate = options.generate ?? randomId;
  return async (req, next) => {
    const incoming = trust ? req.header(header) : null;
    const id = incoming !== null && VALID_ID.test(incoming) ? incoming : generate();
    req.id = id;
    const response = await next();
    try {
      response.headers.set(header, id);
      return response;
    } catch {
      // Immutable headers (e.g. Response.redirect): copy them into a new response.
      const headers = new Headers(response.headers);
      headers.set(header, id);
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }
  };
}
