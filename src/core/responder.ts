import { HttpError } from "./errors.ts";
import { Reply, type Responder, type ReplyBody } from "./response.ts";

/**
 * What a handler may return (or resolve to):
 * - `string` → `text/plain; charset=utf-8`
 * - `Uint8Array` / `ArrayBuffer` → `application/octet-stream`
 * - a Fetch `Response` or a {@link Reply} → sent as is
 * - a `ReadableStream` or async iterable → streamed (`application/octet-stream`)
 * - `null` / `undefined` → 200 with an empty body
 * - an object with `intoResponse()` → whatever it returns
 * - any other value → `JSON.stringify`, `application/json`
 */
export type HandlerResult =
  | Responder
  | Response
  | Reply
  | string
  | Uint8Array
  | ArrayBuffer
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | string>
  | number
  | boolean
  | object
  | null
  | undefined
  | void;

export const TEXT_TYPE = "text/plain; charset=utf-8";
export const JSON_TYPE = "application/json";
const BYTES_TYPE = "application/octet-stream";

export function isAsyncIterable(value: object): value is AsyncIterable<Uint8Array | string> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
}

/**
 * Normalises a handler result into a {@link Reply} or a Fetch `Response`. Throws on a value
 * that cannot be serialised (it becomes a 500 upstream).
 */
export function toReply(value: HandlerResult): Reply | Response {
  if (typeof value === "string") return new Reply(value, 200, { "content-type": TEXT_TYPE });
  if (value === null || value === undefined) return new Reply(null, 200, {});
  if (typeof value === "object") {
    if (value instanceof Reply || value instanceof Response) return value;
    if (value instanceof Uint8Array) return new Reply(value, 200, { "content-type": BYTES_TYPE });
    if (value instanceof ArrayBuffer) return new Reply(new Uint8Array(value), 200, { "content-type": BYTES_TYPE });
    if (value instanceof ReadableStream || isAsyncIterable(value)) {
      return new Reply(value as ReplyBody, 200, { "content-type": BYTES_TYPE });
    }
    if (typeof (value as Partial<Responder>).intoResponse === "function") {
      const inner = (value as Responder).intoResponse();
      if (inner instanceof Reply || inner instanceof Response) return inner;
      throw new TypeError("intoResponse() must return a Response or a Reply");
    }
  }
  const body = JSON.stringify(value);
  if (body === undefined) throw new TypeError(`handler returned a value that is not JSON-serialisable (${typeof value})`);
  return new Reply(body, 200, { "content-type": JSON_TYPE });
}

const TEXT_INIT: ResponseInit = { headers: { "content-type": TEXT_TYPE } };
const JSON_INIT: ResponseInit = { headers: { "content-type": JSON_TYPE } };

/** True for `{…}` literals (without `intoResponse`) and arrays: the JSON fast path. */
export function isPlainJson(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  if (proto === Array.prototype) return true;
  // An object literal with `intoResponse` is a responder, and one with `[Symbol.asyncIterator]`
  // a stream: neither is JSON.
  return proto === Object.prototype && typeof (value as Partial<Responder>).intoResponse !== "function" && !isAsyncIterable(value);
}

/** A handler result as a Fetch `Response`; `head` drops the body (HEAD requests). */
export function toFetchResponse(value: HandlerResult, head: boolean): Response {
  if (!head) {
    if (typeof value === "string") return new Response(value, TEXT_INIT);
    if (typeof value === "object" && value !== null && isPlainJson(value)) return new Response(JSON.stringify(value), JSON_INIT);
  }
  const reply = toReply(value);
  const response = reply instanceof Response ? reply : reply.intoResponse();
  if (!head || response.body === null) return response;
  response.body.cancel().catch(() => {});
  return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** The reply for an error: its status and message for an `HttpError`, a generic 500 otherwise. */
export function errorReply(error: unknown): Reply {
  if (error instanceof HttpError) {
    const headers: Record<string, string> = error.headers === undefined ? { "content-type": TEXT_TYPE } : { "content-type": TEXT_TYPE, ...error.headers };
    // The rest of an oversized upload is never read: close rather than drain it (RFC 9110 §15.5.14).
    if (error.status === 413) headers["connection"] = "close";
    return new Reply(error.message, error.status, headers);
  }
  return new Reply("Internal Server Error", 500, { "content-type": TEXT_TYPE });
}

/** What settling needs of a router: its error hook (`Router.recover`). */
export interface Recoverer<R> {
  recover(error: unknown, req: R): HandlerResult;
}

/**
 * The one fallback ladder that turns a handler result into something an engine can send,
 * whatever its wire format (`convert`: a Node reply, an HTTP/2 reply, a Fetch `Response`):
 * `convert(value)`; when that throws (a value that is not serialisable, a bad `intoResponse`),
 * the router's answer for the error; when that throws too, the plain error reply. Never throws.
 */
export function settle<T, A, R>(router: Recoverer<R>, value: HandlerResult, req: R, convert: (value: HandlerResult, arg: A) => T, arg: A): T {
  try {
    return convert(value, arg);
  } catch (error) {
    return settleError(router, error, req, convert, arg);
  }
}

/** The ladder from an error on: the router's answer for `error`, else the plain error reply. */
export function settleError<T, A, R>(router: Recoverer<R>, error: unknown, req: R, convert: (value: HandlerResult, arg: A) => T, arg: A): T {
  try {
    return convert(router.recover(error, req), arg);
  } catch (again) {
    return convert(errorReply(again), arg);
  }
}
