import { isAsyncIterable, isPlainJson, settle, toFetchResponse, toReply, type HandlerResult } from "../responder.ts";
import { iterableStream, Reply } from "../response.ts";
import type { AnyRequest, Dispatcher, FetchObserver } from "./types.ts";

/**
 * Runs `req` through `router` and answers a Fetch `Response`: synchronously for a sync handler,
 * else through one `then(ok, fail)` (and, when the observer tracks pending responses, one
 * resolver it can answer early). Never throws, never rejects.
 */
export function respondFetch(router: Pick<Dispatcher, "dispatch" | "recover">, req: AnyRequest, observer: FetchObserver | undefined): Response | Promise<Response> {
  const head = req.method === "HEAD";
  const result = router.dispatch(req);
  if (!(result instanceof Promise)) return finish(router, result, head, req, observer);
  const ok = (value: HandlerResult): Response => finish(router, value, head, req, observer);
  const fail = (error: unknown): Response => finish(router, router.recover(error, req), head, req, observer);
  const pending = observer?.pending;
  if (pending === undefined) return result.then(ok, fail);
  return new Promise((resolve) => {
    pending.add(resolve);
    result.then(
      (value) => pending.delete(resolve) && resolve(ok(value)),
      (error: unknown) => pending.delete(resolve) && resolve(fail(error)),
    );
  });
}

function finish(router: Pick<Dispatcher, "recover">, value: HandlerResult, head: boolean, req: AnyRequest, observer: FetchObserver | undefined): Response {
  const streamed = !head && mayStream(value);
  let tracked = false;
  if (streamed) {
    const wrapped = reported(router, value, req, observer);
    tracked = wrapped !== value;
    value = wrapped;
  }
  // A value that cannot become a Response (bad header, not serialisable) is recovered.
  const response = settle(router, value, req, toFetchResponse, head);
  return observer === undefined ? response : observer.finish(response, req, streamed, tracked);
}

/** False for results whose body is whole when the handler returns (the common, cheap case). */
function mayStream(value: HandlerResult): boolean {
  if (value === null || typeof value !== "object") return false;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return false;
  if (value instanceof Reply) return !(value.body === null || typeof value.body === "string" || value.body instanceof Uint8Array);
  return !isPlainJson(value);
}

/** A `ReadableStream` or an async iterable (a Fetch `Response` is neither). */
function isStream(value: unknown): value is ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string> {
  if (typeof value !== "object" || value === null) return false;
  return value instanceof ReadableStream || (!(value instanceof Uint8Array) && isAsyncIterable(value));
}

/**
 * A streamed body (a stream or async iterable the handler returned, bare or in a `Reply`) whose
 * failure midway reaches the router's error hook once, as on Node (`send.ts`): the headers are
 * out, so the hook's answer is not sent; the stream then errors and the runtime cuts the
 * response, so the client sees a truncated body. Other results are returned as they are; that
 * includes a Fetch `Response` the handler built, whose body may be static (a string, bytes) or
 * a stream with no way to tell, and re-wrapping a static body would cost its Content-Length.
 */
function reported(router: Pick<Dispatcher, "recover">, value: HandlerResult, req: AnyRequest, observer: FetchObserver | undefined): HandlerResult {
  if (!isStream(value) && !(value instanceof Reply && isStream(value.body))) return value;
  const reply = toReply(value) as Reply;
  const quiet = observer?.quietStreamErrors === true;
  const failed = (error: unknown): unknown => {
    router.recover(error, req);
    return quiet ? undefined : error;
  };
  const ended = observer?.ended;
  return new Reply(iterableStream(reply.body as AsyncIterable<Uint8Array | string>, failed, ended === undefined ? undefined : () => ended(req)), reply.status, reply.headers);
}
