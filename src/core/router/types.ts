import type { TakoRequest } from "../request.ts";
import type { HandlerResult } from "../responder.ts";

/** A route handler: sync or async, returning anything {@link HandlerResult} accepts. */
export type Handler<P = Readonly<Record<string, string>>, S = unknown> = (
  req: TakoRequest<P, S>,
) => HandlerResult | Promise<HandlerResult>;

/** Calls the rest of the chain; always resolves to a Fetch `Response` (errors included). */
export type Next = () => Promise<Response>;

/**
 * Onion-model middleware: runs code before and after `next()`, may return early with its own
 * result, and may change the `Response` that `next()` resolves to.
 */
export type Middleware<S = unknown> = (
  req: TakoRequest<Readonly<Record<string, string>>, S>,
  next: Next,
) => HandlerResult | Promise<HandlerResult>;

/** Called with every unexpected error (not `HttpError`); may return a custom response. */
export type ErrorHook<S = unknown> = (
  error: unknown,
  req: TakoRequest<Readonly<Record<string, string>>, S>,
) => HandlerResult | void;

/** A handler with its path, ready to run. */
export type Runner = (req: TakoRequest<never, never>) => HandlerResult | Promise<HandlerResult>;
