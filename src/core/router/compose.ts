import { HttpError } from "../errors.ts";
import { errorReply, toFetchResponse, type HandlerResult } from "../responder.ts";
import type { AnyRequest, Middleware } from "./types.ts";

type Fn = (req: AnyRequest) => HandlerResult | Promise<HandlerResult>;

/**
 * Folds middleware around a handler once, at router build time. With no middleware the
 * handler itself is returned, so a plain route pays nothing for the feature.
 *
 * Inside the chain every step's result is turned into a Fetch `Response` and errors become
 * error responses (reported through `report`), so `await next()` always gives a `Response`.
 */
export function compose(middleware: readonly Middleware<unknown>[], handler: Fn, report: (error: unknown, req: AnyRequest) => HandlerResult | void): Fn {
  if (middleware.length === 0) return handler;
  const settle = (req: AnyRequest, step: () => HandlerResult | Promise<HandlerResult>): Promise<Response> => {
    const recover = (error: unknown): Response => toFetchResponse(recoverError(error, req, report), false);
    try {
      return Promise.resolve(step())
        .then((value) => toFetchResponse(value, false))
        .catch(recover);
    } catch (error) {
      return Promise.resolve(recover(error));
    }
  };
  const at = (i: number, req: AnyRequest): Promise<Response> => {
    if (i === middleware.length) return settle(req, () => handler(req));
    const mw = middleware[i]!;
    return settle(req, () => mw(req, () => at(i + 1, req)));
  };
  return (req) => at(0, req);
}

/** The result for `error`: the hook's answer when it gives one, else the standard error reply. */
export function recoverError(error: unknown, req: AnyRequest, report: (error: unknown, req: AnyRequest) => HandlerResult | void): HandlerResult {
  // A traced request (diagnostics subscriber) reports its errors; one field read otherwise, on the error path only.
  if (req.tracer !== null) req.tracer.failed(error);
  if (!(error instanceof HttpError)) {
    try {
      const custom = report(error, req);
      if (custom !== undefined) return custom;
    } catch {
      // A failing error hook must not turn a 500 into a crash.
    }
  }
  return errorReply(error);
}
