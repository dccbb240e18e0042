/**
 * OpenTelemetry for tako servers (`tako/otel`): a server span per request and the HTTP server
 * metrics, built on tako's diagnostics channels. `@opentelemetry/api` is an optional peer
 * dependency; no SDK or exporter is bundled: register yours (tracer and meter providers, a
 * context manager, the W3C propagator) as usual, then call {@link instrument}.
 *
 * ```ts
 * import { instrument } from "tako/otel";
 * const stop = instrument(); // before or after servers start; `stop()` removes it
 * ```
 * @module
 */
import {
  type Attributes,
  type Context,
  context,
  type Counter,
  type Histogram,
  type MeterProvider,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
  type TracerProvider,
  type UpDownCounter,
} from "@opentelemetry/api";
import { connectionClose, type ConnectionMessage, connectionOpen, connectionRefused, type RequestMessage, requestChannel } from "../adapters/shared/diagnostics.ts";
import { isKnownMethod } from "../core/method.ts";
import type { AnyRequest } from "../core/router/types.ts";

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /** Default: the global tracer provider (`trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProvider;
  /** Default: the global meter provider (`metrics.getMeterProvider()`). */
  readonly meterProvider?: MeterProvider;
  /** Requests for which no span is made and no metric recorded (e.g. health probes). Default: none. */
  readonly ignore?: (req: AnyRequest) => boolean;
}

const SCOPE = "tako";
/** The buckets the semantic conventions advise for `http.server.request.duration` (seconds). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Reads the W3C trace context (or whatever the global propagator reads) from the request headers. */
const getter: TextMapGetter<AnyRequest> = {
  get: (req, key) => req.header(key) ?? undefined,
  keys: (req) => [...req.headers.keys()],
};

/** A duck-typed store for `start.bindStore`: the dispatch runs inside the span's context. */
interface Store {
  run(ctx: Context, fn: () => unknown): unknown;
}

/** `tako` gives `"1.1"` / `"2.0"`; the conventions want `"1.1"` / `"2"`. */
const protocolVersion = (v: string): string => (v === "2.0" ? "2" : v);

/**
 * Subscribes to tako's diagnostics channels and produces, for every request any tako server in
 * this process serves (every runtime, every transport):
 *
 * - a `SERVER` span named `"{method} {route}"` (just the method when no route matched), child
 *   of the caller's span when the request carries `traceparent` (the global propagator), with
 *   the stable HTTP attributes `http.request.method`, `http.route`, `http.response.status_code`,
 *   `url.path`, `url.scheme`, `server.port`, `client.address` (the PROXY header's source when
 *   the listener reads one), `network.protocol.version`, `user_agent.original`,
 *   `tls.protocol.version` on TLS; status `ERROR` for 5xx (and `error.type`); handler errors
 *   recorded as exceptions; `tako.client_left: true` when the client left first. Middleware and
 *   handlers run in the span's context: spans they start are its children.
 * - metrics `http.server.request.duration` (histogram, s), `http.server.active_requests`
 *   (up-down counter), `tako.server.open_connections` (up-down counter) and
 *   `tako.server.refused_connections` (counter, `tako.reason`: cap, proxy, tls).
 *
 * Returns a function that removes the instrumentation.
 */
export function instrument(options: InstrumentOptions = {}): () => void {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const ignore = options.ignore;
  const duration: Histogram = meter.createHistogram("http.server.request.duration", {
    unit: "s",
    description: "Duration of HTTP server requests.",
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const active: UpDownCounter = meter.createUpDownCounter("http.server.active_requests", { unit: "{request}", description: "Number of active HTTP server requests." });
  const open: UpDownCounter = meter.createUpDownCounter("tako.server.open_connections", {
    unit: "{connection}",
    description: "Connections tako tracks (accepted, not closed yet).",
  });
  const refused: Counter = meter.createCounter("tako.server.refused_connections", {
    unit: "{connection}",
    description: "Connections refused: over maxConnections, bad PROXY header, failed TLS handshake.",
  });

  /** The span and the attributes of the active-requests counter, per traced request. */
  const spans = new WeakMap<RequestMessage, { span: Span; activeAttrs: Attributes }>();

  const store: Store = { run: (ctx, fn) => context.with(ctx, fn) };
  const transform = (message: RequestMessage): Context => {
    const base = context.active();
    const req = message.req;
    if (ignore?.(req) === true) return base;
    const parent = propagation.extract(base, req, getter);
    const method = isKnownMethod(message.method) ? message.method : "_OTHER";
    const conn = req.conn;
    const scheme = conn.tls === null ? "http" : "https";
    const attributes: Attributes = {
      "http.request.method": method,
      "url.path": message.path,
      "url.scheme": scheme,
      "server.port": conn.localPort,
      "client.address": conn.remoteAddress,
      "network.protocol.name": "http",
      "network.protocol.version": protocolVersion(conn.httpVersion),
    };
    if (message.route !== null) attributes["http.route"] = message.route;
    if (method === "_OTHER") attributes["http.request.method_original"] = message.method;
    const agent = req.header("user-agent");
    if (agent !== null) attributes["user_agent.original"] = agent;
    const tls = conn.tls?.protocol;
    if (typeof tls === "string" && tls.startsWith("TLSv")) {
      attributes["tls.protocol.name"] = "tls";
      attributes["tls.protocol.version"] = tls.slice(4);
    }
    const name = method === "_OTHER" ? "HTTP" : message.route === null ? method : `${method} ${message.route}`;
    const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    const activeAttrs: Attributes = { "http.request.method": method, "url.scheme": scheme };
    active.add(1, activeAttrs);
    spans.set(message, { span, activeAttrs });
    return trace.setSpan(parent, span);
  };

  const onError = (raw: unknown): void => {
    const message = raw as RequestMessage;
    const entry = spans.get(message);
    if (entry === undefined) return;
    const error = message.error;
    entry.span.recordException(error instanceof Error ? error : String(error));
  };

  const onEnd = (raw: unknown): void => {
    const message = raw as RequestMessage;
    const entry = spans.get(message);
    if (entry === undefined) return;
    spans.delete(message);
    const { span, activeAttrs } = entry;
    const status = message.status;
    const attrs: Attributes = {
      "http.request.method": activeAttrs["http.request.method"],
      "url.scheme": activeAttrs["url.scheme"],
      "network.protocol.name": "http",
      "network.protocol.version": protocolVersion(message.httpVersion),
    };
    if (message.route !== null) attrs["http.route"] = message.route;
    if (status !== 0) {
      attrs["http.response.status_code"] = status;
      span.setAttribute("http.response.status_code", status);
    }
    if (status >= 500) {
      attrs["error.type"] = String(status);
      span.setAttribute("error.type", String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    } else if (status === 0 && message.error !== undefined) {
      const type = message.error instanceof Error ? message.error.constructor.name : "_OTHER";
      attrs["error.type"] = type;
      span.setAttribute("error.type", type);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    if (message.clientLeft) span.setAttribute("tako.client_left", true);
    span.end();
    active.add(-1, activeAttrs);
    duration.record(message.duration / 1000, attrs);
  };

  const onOpen = (): void => open.add(1);
  const onClose = (): void => open.add(-1);
  const onRefused = (raw: unknown): void => {
    const reason = (raw as ConnectionMessage).reason;
    refused.add(1, { "tako.reason": reason });
    // A PROXY or TLS refusal comes after the connection was opened; its close follows.
  };

  requestChannel.start.bindStore(store as never, transform as never);
  requestChannel.error.subscribe(onError);
  requestChannel.asyncEnd.subscribe(onEnd);
  connectionOpen.subscribe(onOpen);
  connectionClose.subscribe(onClose);
  connectionRefused.subscribe(onRefused);
  let installed = true;
  return () => {
    if (!installed) return;
    installed = false;
    requestChannel.start.unbindStore(store as never);
    requestChannel.error.unsubscribe(onError);
    requestChannel.asyncEnd.unsubscribe(onEnd);
    connectionOpen.unsubscribe(onOpen);
    connectionClose.unsubscribe(onClose);
    connectionRefused.unsubscribe(onRefused);
  };
}
