import { isPlainJson, settle, toFetchResponse, type HandlerResult } from "../responder.ts";
import { Reply } from "../response.ts";
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
  // A value that cannot become a Response (bad header, not serialisable) is recovered.
  const response = settle(router, value, req, toFetchResponse, head);
  return observer === undefined ? response : observer.finish(response, req, !head && mayStream(value));
}

/** False for results whose body is whole when the handler returns (the common, cheap case). */
function mayStream(value: HandlerResult): boolean {
  if (value === null || typeof value !== "object") return false;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return false;
  if (value instanceof Reply) return !(value.body === null || typeof value.body === "string" || value.body instanceof Uint8Array);
  return !isPlainJson(value);
}
