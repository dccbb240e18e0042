import { handlerTimedOut, HttpError } from "../errors.ts";
import { errorReply, isAsyncIterable, type HandlerResult } from "../responder.ts";
import { Reply } from "../response.ts";
import type { AnyRequest } from "./types.ts";

/**
 * The answer past a handler timeout: 503, not 504 (the server is the origin, not a gateway:
 * RFC 9110 §15.6.5), as `handlerTimeout`'s doc comment explains.
 */
const timedOutReply = (): Reply => errorReply(new HttpError(503, "Service Unavailable: the request handler timed out"));

/**
 * `pending` (an async handler's result), bounded by `ms`: past it `req.signal` aborts with
 * `TAKO_ERR_HANDLER_TIMEOUT` and the result is a 503; what the handler resolves to later is
 * discarded (a stream cancelled), and a later failure goes to `report` unless it is the abort
 * itself. One timer per pending request, only on routes with a timeout.
 */
export function withTimeout(pending: Promise<HandlerResult>, ms: number, req: AnyRequest, report: (error: unknown) => void): Promise<HandlerResult> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      req.abortSignal(handlerTimedOut(ms));
      resolve(timedOutReply());
    }, ms);
    pending.then(
      (value) => {
        if (!late) {
          clearTimeout(timer);
          resolve(value);
        } else discard(value);
      },
      (error: unknown) => {
        if (!late) {
          clearTimeout(timer);
          reject(error);
        } else if (!isAbort(error, req)) report(error);
      },
    );
  });
}

/** The handler gave up because its signal told it to: not worth reporting. */
function isAbort(error: unknown, req: AnyRequest): boolean {
  return (
    error === req.signal.reason ||
    (error instanceof Error && error.name === "AbortError") ||
    (error instanceof Error && (error as { code?: unknown }).code === "TAKO_ERR_HANDLER_TIMEOUT")
  );
}

/** Releases a result nobody will send: a stream is cancelled, an iterator returned. */
function discard(value: HandlerResult): void {
  const body = value instanceof Reply ? value.body : value instanceof Response ? value.body : value;
  if (body === null || typeof body !== "object") return;
  if (body instanceof ReadableStream) {
    if (!body.locked) body.cancel().catch(() => {});
  } else if (!(body instanceof Uint8Array) && isAsyncIterable(body)) {
    Promise.resolve(body[Symbol.asyncIterator]().return?.()).catch(() => {});
  }
}
