import dc from "node:diagnostics_channel";
import { HttpError } from "../../core/errors.ts";
import type { RequestTracer } from "../../core/request.ts";
import type { HandlerResult } from "../../core/responder.ts";
import type { AnyRequest, Dispatcher, FetchObserver } from "../../core/router/types.ts";

/**
 * tako's `node:diagnostics_channel` events, published from here by every engine (Node, Bun,
 * Deno: the module exists on all three). Nothing is built or published while nobody subscribes:
 * the hot path reads one `hasSubscribers` per request (and per accepted connection).
 *
 * - `tracing:tako:request:start` / `:end` / `:error` / `:asyncEnd`: a {@link RequestMessage}
 *   (see {@link requestChannel}).
 * - `tako:connection:open` / `:close` / `:refused`: a {@link ConnectionMessage}.
 * - `tako:h2:goaway`: a {@link GoawayMessage}, where tako sends GOAWAY.
 * - `tako:drain:start` / `tako:drain:end`: a {@link DrainMessage}.
 */
export const CHANNELS = Object.freeze({
  request: "tako:request",
  connectionOpen: "tako:connection:open",
  connectionClose: "tako:connection:close",
  connectionRefused: "tako:connection:refused",
  h2Goaway: "tako:h2:goaway",
  drainStart: "tako:drain:start",
  drainEnd: "tako:drain:end",
});

/**
 * A request as the request channel reports it: one object from `start` to `asyncEnd` (the same
 * identity in every event), filled in as the request goes.
 */
export class RequestMessage implements RequestTracer {
  /** The request view the handler sees (`req.conn`, `req.headers`, `req.state` …). */
  readonly req: AnyRequest;
  readonly method: string;
  /** The matched route's pattern (prefix included), `null` when no route matched (404, 405 …). */
  readonly route: string | null;
  /** `performance.now()` at dispatch. */
  readonly startTime: number;
  /** The status sent; `0` until `asyncEnd` (and when no status went out). */
  status = 0;
  /** Set at `asyncEnd`: the connection or stream closed before the response was complete. */
  clientLeft = false;
  /** Milliseconds from dispatch to `asyncEnd`; `-1` before. */
  duration = -1;
  /** The last unexpected error reported for this request (`error` event); `undefined` when none. */
  error: unknown = undefined;
  /** Free for subscribers (e.g. a span); tako never reads it. */
  context: unknown = undefined;

  constructor(req: AnyRequest, route: string | null) {
    this.req = req;
    this.method = req.method;
    this.route = route;
    this.startTime = performance.now();
  }

  /** The path, still percent-encoded, without the query. */
  get path(): string {
    return this.req.path;
  }

  /** `"1.1"` or `"2.0"`. */
  get httpVersion(): string {
    return this.req.conn.httpVersion;
  }

  /** The client's address: the PROXY header's source when the listener reads one, else the TCP peer. */
  get remoteAddress(): string {
    return this.req.conn.remoteAddress;
  }

  /** Reported by the router's recovery: an error a handler, middleware or streamed body threw. 4xx `HttpError`s are answers, not errors. */
  failed(error: unknown): void {
    if (error instanceof HttpError && error.status < 500) return;
    this.error = error;
    if (requestChannel.error.hasSubscribers) requestChannel.error.publish(this);
  }

  /** The engine's `watchResponse` callback. */
  readonly done = (status: number, complete: boolean): void => {
    if (this.duration !== -1) return;
    this.duration = performance.now() - this.startTime;
    this.status = status;
    this.clientLeft = !complete;
    requestChannel.asyncEnd.publish(this);
  };
}

/**
 * `tracing:tako:request:*`, one request per message:
 * - `start`: the request is dispatched (route looked up, before any middleware). The dispatch
 *   runs inside `start.runStores`, so a store bound with `start.bindStore` (an
 *   `AsyncLocalStorage`) is the active context in middleware and handlers.
 * - `end`: the synchronous part of the dispatch returned (an async handler may still run).
 * - `error`: a handler, middleware or streamed body threw an error answered 5xx (or reported
 *   after the headers went out); `message.error` holds it. Several are possible.
 * - `asyncEnd`: the response is complete (its last byte handed to the runtime) or abandoned
 *   (`clientLeft`): `status` and `duration` are set. Exactly once per traced request, after `end`.
 * `asyncStart` is not published.
 */
export const requestChannel = dc.tracingChannel<RequestMessage, RequestMessage>(CHANNELS.request);
/** Read once per request by every engine: `start.hasSubscribers` (Bun's TracingChannel has no `hasSubscribers`). */
export const requestStart = requestChannel.start;

function begin(router: Dispatcher, req: AnyRequest): RequestMessage {
  const message = new RequestMessage(req, router.routeOf?.(req) ?? null);
  req.tracer = message;
  req.watchResponse(message.done);
  return message;
}

/** `router.dispatch(req)`, traced: for engines whose subscriber check said yes. */
export function traceDispatch(router: Dispatcher, req: AnyRequest): HandlerResult | Promise<HandlerResult> {
  const message = begin(router, req);
  try {
    return requestStart.runStores(message, router.dispatch, router, req);
  } finally {
    requestChannel.end.publish(message);
  }
}

/** `router.handleFetch(req, observer)`, traced (fetch-style engines: Deno). */
export function traceFetch(router: Dispatcher, req: AnyRequest, observer: FetchObserver): Response | Promise<Response> {
  const message = begin(router, req);
  try {
    return requestStart.runStores(message, router.handleFetch, router, req, observer);
  } finally {
    requestChannel.end.publish(message);
  }
}

/** A connection as the connection channels report it. */
export interface ConnectionMessage {
  /** The engine's object for this connection (a socket, or Deno's connection record): compare by identity to pair open and close. */
  readonly handle: unknown;
  /** The TCP peer (a PROXY header is read later: requests carry the real client). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * `refused`: `"cap"` (maxConnections), `"proxy"` (bad or late PROXY header), `"tls"` (failed
   * or timed-out handshake). `close`: `"closed"`, or `"shed"` (closed idle to make room at the cap).
   * `open`: `"accepted"`.
   */
  readonly reason: string;
  /** For `refused` with `"proxy"` or `"tls"`: what went wrong. */
  readonly error?: unknown;
}

export const connectionOpen = dc.channel(CHANNELS.connectionOpen);
export const connectionClose = dc.channel(CHANNELS.connectionClose);
export const connectionRefused = dc.channel(CHANNELS.connectionRefused);

/** What an engine knows of a connection's TCP peer. */
export interface Peer {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

/** Publishes on `channel` (the caller checked `hasSubscribers`). */
export function publishConnection(channel: dc.Channel, handle: unknown, peer: Peer | null, reason: string, error?: unknown): void {
  const message: ConnectionMessage = { handle, remoteAddress: peer?.remoteAddress ?? "", remotePort: peer?.remotePort ?? 0, reason, error };
  channel.publish(message);
}

/** A GOAWAY frame tako sends. */
export interface GoawayMessage {
  /** The HTTP/2 error code: 0 NO_ERROR (drain, idle), 11 ENHANCE_YOUR_CALM (abuse). */
  readonly code: number;
  /** `"drain"`, `"idle"` (keepAliveTimeout) or `"abuse"`. */
  readonly reason: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

export const h2Goaway = dc.channel(CHANNELS.h2Goaway);

export function publishGoaway(code: number, reason: string, peer: Peer | null): void {
  const message: GoawayMessage = { code, reason, remoteAddress: peer?.remoteAddress ?? "", remotePort: peer?.remotePort ?? 0 };
  h2Goaway.publish(message);
}

/** A server's drain. */
export interface DrainMessage {
  /** The server's lifecycle (the same object in start and end). */
  readonly server: unknown;
  /** Connections open when the drain started (start), or 0 (end). */
  readonly connections: number;
  /** `true` at start when the drain deadline forced it (no graceful phase). */
  readonly forced: boolean;
}

export const drainStart = dc.channel(CHANNELS.drainStart);
export const drainEnd = dc.channel(CHANNELS.drainEnd);
