import type { TakoRequest } from "../request.ts";
import type { HandlerResult } from "../responder.ts";

/** A route handler: sync or async, returning anything {@link HandlerResult} accepts. */
export type Handler<P = Readonly<Record<string, string>>, S = unknown> = (req: TakoRequest<P, S>) => HandlerResult | Promise<HandlerResult>;

/** Calls the rest of the chain; always resolves to a Fetch `Response` (errors included). */
export type Next = () => Promise<Response>;

/**
 * Onion-model middleware: runs code before and after `next()`, may return early with its own
 * result, and may change the `Response` that `next()` resolves to.
 */
export type Middleware<S = unknown> = (req: TakoRequest<Readonly<Record<string, string>>, S>, next: Next) => HandlerResult | Promise<HandlerResult>;

/** Called with every unexpected error (not `HttpError`); may return a custom response. */
export type ErrorHook<S = unknown> = (error: unknown, req: TakoRequest<Readonly<Record<string, string>>, S>) => HandlerResult | void;

/** A handler with its path, ready to run. */
export type Runner = (req: TakoRequest<never, never>) => HandlerResult | Promise<HandlerResult>;

/** A request as engines hand it to the router. */
export type AnyRequest = TakoRequest<Readonly<Record<string, string>>, unknown>;

/** How a fetch-style engine follows responses through `router.handleFetch`. */
export interface FetchObserver {
  /**
   * Sees every response when it is ready (e.g. to add `Connection: close` during a drain).
   * `streamed`: its body may keep producing after the handler returned (a stream, an async
   * iterable, a Fetch `Response` from the handler), as opposed to a whole string or bytes.
   * `tracked`: a streamed body whose normal end is reported through {@link ended} (a stream or
   * iterable the handler returned; not the body of a Fetch `Response` it built).
   */
  finish(response: Response, req: AnyRequest, streamed: boolean, tracked: boolean): Response;
  /** A tracked streamed body was sent to its end (the response is complete). Optional. */
  readonly ended?: (req: AnyRequest) => void;
  /**
   * Resolvers of responses still being produced, for an engine that must answer them early
   * (the drain deadline on a runtime that cannot destroy connections). Optional.
   */
  readonly pending?: Set<(response: Response) => void>;
  /**
   * After a streamed body failed and the error went to the router's error hook, end the stream
   * with no reason (`undefined`) rather than the error itself: the runtime then cuts the
   * response without logging the error a second time (Bun prints any other reason with its
   * stack trace; measured). Off (`router.fetch` in process): the reader gets the error.
   */
  readonly quietStreamErrors?: boolean;
}

/** What engines need of a router: dispatch, and error recovery for failures while writing. */
export interface Dispatcher {
  dispatch(req: AnyRequest): HandlerResult | Promise<HandlerResult>;
  handleFetch(req: AnyRequest, observer?: FetchObserver): Response | Promise<Response>;
  recover(error: unknown, req: AnyRequest): HandlerResult;
  /** A server serving this dispatcher has begun its shutdown (readiness answers 503 from now on). */
  serverDraining?(): void;
  /** True when it has WebSocket routes (`router.ws`): an engine whose fast path cannot upgrade serves on one that can. */
  hasUpgrades?(): boolean;
  /** Whether `req` is served even while the server sheds load (the health paths). Optional: none. */
  shedExempt?(req: AnyRequest): boolean;
}
