import { TakoError } from "./errors.ts";

/** Doubling backoff after an accept error (EMFILE, ENFILE …): `initial` ms, doubling to `max` ms. */
export interface AcceptBackoff {
  readonly initial: number;
  readonly max: number;
}

/** A QUIC congestion controller (`ServerConfig.h3Congestion`). */
export type H3Congestion = "cubic" | "newreno" | "bbr";

/**
 * Production limits shared by every transport. Durations are milliseconds; `null` disables a
 * limit. Field names and defaults follow tako's `ServerConfig`; each default's reason is on
 * its field.
 */
export interface ServerConfig {
  /** Drain budget after `trigger()`: in-flight requests get this long, then connections are destroyed. Default 30 s: long enough for ordinary requests, short enough for orchestrators' kill timeouts. */
  readonly drainTimeout: number;
  /**
   * After `trigger()` (or `shutdown()`, or a signal), readiness (`router.health()`) fails at
   * once while the server keeps accepting and serving for this long, so a load balancer polling
   * it takes the instance out of rotation before connections are refused; then the drain runs,
   * bounded by `drainTimeout`. A shutdown takes at most `shutdownDelay + drainTimeout`.
   * Default 0: the drain starts at once.
   */
  readonly shutdownDelay: number;
  /** Deadline for a complete request head (slowloris defence); answered 408 and closed. Default 30 s. */
  readonly headerReadTimeout: number | null;
  /** HTTP/1.1 keep-alive. Default `true`; `false` closes after every response. */
  readonly keepAlive: boolean;
  /** Idle keep-alive connections are closed after this long. Default 5 s (Node's): idle sockets hold descriptors and memory. `null`: never. */
  readonly keepAliveTimeout: number | null;
  /**
   * Connections served at once (accept to close). At the cap the oldest idle connection (no
   * request in flight, accepted over a second ago) is closed to make room; when none is idle,
   * the new one is answered 503 and closed. Default `null`: derived from the process's
   * descriptor limit (the limit less an eighth, 64 to 1,024 descriptors kept for the rest of
   * the process), so the server sheds and refuses instead of running out of descriptors; no cap
   * where the limit cannot be read.
   */
  readonly maxConnections: number | null;
  /**
   * Deadline for a request body, Apache's `mod_reqtimeout` rule: the body gets this long, plus
   * one second per {@link bodyMinRate} bytes received. Time counts only while the server is
   * waiting for body bytes (a handler that has not asked for the body does not make the client
   * late). Past it the request is answered 408 and the connection closed. Default 20 s:
   * generous for a first byte, fatal to a 1-byte-per-second upload. `null`: no deadline.
   */
  readonly bodyReadTimeout: number | null;
  /**
   * Bytes per second that extend {@link bodyReadTimeout} (one second per this many bytes), so
   * a large upload at an honest rate is never cut. Default 500 (Apache's `MinRate`). `null`:
   * the timeout bounds the whole body.
   */
  readonly bodyMinRate: number | null;
  /**
   * How long a handler (with its middleware) may take to produce its response, a per-route
   * `.timeout(ms)` overriding it. Past it the client gets **503 Service Unavailable** and
   * `req.signal` aborts (reason `TAKO_ERR_HANDLER_TIMEOUT`), so the work the handler started
   * can stop; whatever the handler returns later is discarded (a stream it returns is
   * cancelled). 503 rather than 504: the server is the origin here, not a gateway waiting on an
   * upstream (RFC 9110 §15.6.5 gives 504 to gateways and proxies), and 503 tells the client the
   * condition is temporary (§15.6.4), as Go's `http.TimeoutHandler` answers. The deadline ends
   * when the handler returns: a streamed body (a stream, an async iterable, `sse()`) already
   * under way is not cut by it (its status is out; bound it with `req.signal` or in its source).
   * A synchronous handler cannot be interrupted. Default `null`: no deadline (a slow handler
   * holds only its own request; tako does not guess how long yours should take).
   */
  readonly handlerTimeout: number | null;
  /** Accept-error backoff. Default 5 ms doubling to 1 s: no busy loop when descriptors run out. */
  readonly acceptBackoff: AcceptBackoff;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS. Default 100 (RFC 9113 §6.5.2 recommends at least 100). */
  readonly h2MaxConcurrentStreams: number;
  /** HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE in bytes. Default 16 KiB: bounds HPACK-decoded header memory. */
  readonly h2MaxHeaderListSize: number;
  /** HTTP/2 bytes buffered per stream for a peer that does not read. Default 1 MiB. */
  readonly h2MaxSendBufSize: number;
  /** HTTP/2 streams reset before being accepted, before GOAWAY (CVE-2023-44487 rapid reset). Default 50. */
  readonly h2MaxPendingAcceptResetStreams: number;
  /** HTTP/2 PING interval for idle connections. Default `null`: off. */
  readonly h2KeepAliveInterval: number | null;
  /**
   * HTTP/3: concurrent request streams (client-initiated bidirectional QUIC streams) per
   * connection; more wait for credit instead of being served at once. Default 100 (as HTTP/2).
   */
  readonly h3MaxConcurrentBidiStreams: number;
  /**
   * HTTP/3: concurrent client-initiated unidirectional QUIC streams (control and QPACK streams).
   * Default 8; at least 3, the streams every HTTP/3 client opens (RFC 9114 §6.2).
   */
  readonly h3MaxConcurrentUniStreams: number;
  /** HTTP/3: a connection with no packet either way for this long is closed (QUIC max_idle_timeout). Default 30 s. `null`: the engine's own default. */
  readonly h3MaxIdleTimeout: number | null;
  /** HTTP/3: the QUIC congestion controller. Default `"cubic"`, the most widely deployed. */
  readonly h3Congestion: H3Congestion;
  /** HTTP/3: QUIC datagrams (RFC 9221). Default `false`. */
  readonly h3EnableDatagrams: boolean;
  /**
   * HTTP/3: answer each new connection from an unvalidated address with a QUIC Retry, so a
   * spoofed source address cannot draw amplified replies, at one extra round trip per new
   * client. Default `false`.
   */
  readonly h3UseRetry: boolean;
  /**
   * HTTP/3: after the drain's GOAWAY, in-flight streams get this long before the connection is
   * closed; the effective grace is `min(h3GoawayGrace, drainTimeout)`. Default 10 s.
   */
  readonly h3GoawayGrace: number;
  /** Deadline for a PROXY protocol header. Default 10 s. */
  readonly proxyReadTimeout: number;
  /** Deadline for a TLS handshake (TLS slowloris). Default 10 s. */
  readonly tlsHandshakeTimeout: number;
  /**
   * Load shedding by event loop delay: while the event loop runs more than this many
   * milliseconds late, new requests are answered 503 with `Retry-After: 1` before any route or
   * middleware runs (the `router.health()` paths excepted), so an overloaded process sheds work
   * at the cost of a few bytes instead of queueing it. The delay is how late a 20 ms timer fires,
   * kept as a peak that halves every 100 ms (a 600 ms stall sheds for about 250 ms past its end
   * with a 100 ms limit), measured the same way on every runtime. Default `null`: off.
   */
  readonly maxEventLoopDelay: number | null;
  /**
   * Load shedding by event loop utilization (the share of time the loop was busy, 0..1, over the
   * last 250 ms), answered like {@link maxEventLoopDelay}. Node.js only: Bun and Deno report no
   * utilization (`performance.eventLoopUtilization()` stays 0 there, measured), so setting it on
   * them throws `TAKO_ERR_UNSUPPORTED` at spawn. Default `null`: off.
   */
  readonly maxEventLoopUtilization: number | null;
}

/** Every default in one place; the reasons are on {@link ServerConfig}'s fields. */
export const DEFAULT_SERVER_CONFIG: ServerConfig = Object.freeze({
  drainTimeout: 30_000,
  shutdownDelay: 0,
  headerReadTimeout: 30_000,
  keepAlive: true,
  keepAliveTimeout: 5_000,
  maxConnections: null,
  bodyReadTimeout: 20_000,
  bodyMinRate: 500,
  handlerTimeout: null,
  acceptBackoff: Object.freeze({ initial: 5, max: 1_000 }),
  h2MaxConcurrentStreams: 100,
  h2MaxHeaderListSize: 16 * 1024,
  h2MaxSendBufSize: 1024 * 1024,
  h2MaxPendingAcceptResetStreams: 50,
  h2KeepAliveInterval: null,
  h3MaxConcurrentBidiStreams: 100,
  h3MaxConcurrentUniStreams: 8,
  h3MaxIdleTimeout: 30_000,
  h3Congestion: "cubic",
  h3EnableDatagrams: false,
  h3UseRetry: false,
  h3GoawayGrace: 10_000,
  proxyReadTimeout: 10_000,
  tlsHandshakeTimeout: 10_000,
  maxEventLoopDelay: null,
  maxEventLoopUtilization: null,
});

type Rule = (value: unknown) => string | null;

/** Largest duration accepted: setTimeout's limit (about 24.8 days). */
const MAX_MS = 2 ** 31 - 1;
const MAX_U32 = 2 ** 32 - 1;

/** Why `v` is not `null` or a duration the runtimes' timers accept (`handlerTimeout`, a route's `.timeout(ms)`); `null` when it is. */
export function timeoutProblem(v: unknown): string | null {
  return orNull(positiveDuration)(v);
}

const duration: Rule = (v) => (typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= MAX_MS ? null : `a duration in milliseconds, 0..${MAX_MS}`);
const positiveDuration: Rule = (v) => (typeof v === "number" && Number.isFinite(v) && v > 0 && v <= MAX_MS ? null : `a duration in milliseconds, 1..${MAX_MS}`);
const orNull =
  (rule: Rule): Rule =>
  (v) =>
    v === null ? null : ((r) => (r === null ? null : `${r}, or null to disable`))(rule(v));
const integer =
  (min: number, max: number): Rule =>
  (v) =>
    typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? null : `an integer in ${min}..${max}`;
const fraction: Rule = (v) => (typeof v === "number" && Number.isFinite(v) && v > 0 && v <= 1 ? null : "a fraction in (0, 1]");
const oneOf =
  (...values: string[]): Rule =>
  (v) =>
    typeof v === "string" && values.includes(v) ? null : `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`;
const boolean: Rule = (v) => (typeof v === "boolean" ? null : "true or false");
const backoff: Rule = (v) => {
  if (typeof v !== "object" || v === null) return "an object { initial, max } in milliseconds";
  const { initial, max, ...rest } = v as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return `an object { initial, max }; unknown key "${Object.keys(rest)[0]}"`;
  if (positiveDuration(initial) !== null || positiveDuration(max) !== null || (initial as number) > (max as number)) {
    return "{ initial, max } with 1 <= initial <= max milliseconds";
  }
  return null;
};

const RULES: Record<keyof ServerConfig, Rule> = {
  drainTimeout: duration,
  shutdownDelay: duration,
  headerReadTimeout: orNull(positiveDuration),
  keepAlive: boolean,
  keepAliveTimeout: orNull(positiveDuration),
  maxConnections: orNull(integer(1, 2 ** 31 - 1)),
  bodyReadTimeout: orNull(positiveDuration),
  bodyMinRate: orNull(integer(1, 2 ** 31 - 1)),
  handlerTimeout: orNull(positiveDuration),
  acceptBackoff: backoff,
  h2MaxConcurrentStreams: integer(1, MAX_U32),
  h2MaxHeaderListSize: integer(1, MAX_U32),
  h2MaxSendBufSize: integer(1, 2 ** 31 - 1),
  h2MaxPendingAcceptResetStreams: integer(0, 2 ** 31 - 1),
  h2KeepAliveInterval: orNull(positiveDuration),
  h3MaxConcurrentBidiStreams: integer(1, MAX_U32),
  h3MaxConcurrentUniStreams: integer(3, MAX_U32),
  h3MaxIdleTimeout: orNull(positiveDuration),
  h3Congestion: oneOf("cubic", "newreno", "bbr"),
  h3EnableDatagrams: boolean,
  h3UseRetry: boolean,
  h3GoawayGrace: duration,
  proxyReadTimeout: positiveDuration,
  tlsHandshakeTimeout: positiveDuration,
  maxEventLoopDelay: orNull(positiveDuration),
  maxEventLoopUtilization: orNull(fraction),
};

function describe(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

/**
 * Merges `partial` over the defaults and validates every field. Throws a `TakoError`
 * (`TAKO_ERR_CONFIG`) naming the field, the bad value and the accepted range.
 */
export function resolveConfig(partial: Partial<ServerConfig> = {}): ServerConfig {
  if (typeof partial !== "object" || partial === null || Array.isArray(partial)) {
    throw new TakoError("TAKO_ERR_CONFIG", `server config must be an object, got ${describe(partial)}`);
  }
  for (const key of Object.keys(partial)) {
    if (!(key in RULES)) {
      throw new TakoError("TAKO_ERR_CONFIG", `unknown server config field "${key}"; known fields: ${Object.keys(RULES).join(", ")}`);
    }
  }
  const merged = { ...DEFAULT_SERVER_CONFIG, ...partial } as Record<string, unknown>;
  for (const [key, rule] of Object.entries(RULES)) {
    const problem = rule(merged[key]);
    if (problem !== null) {
      throw new TakoError("TAKO_ERR_CONFIG", `server config field "${key}" must be ${problem}; got ${describe(merged[key])}`);
    }
  }
  merged["acceptBackoff"] = Object.freeze({ ...(merged["acceptBackoff"] as AcceptBackoff) });
  return Object.freeze(merged) as unknown as ServerConfig;
}
