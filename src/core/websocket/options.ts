import { TakoError } from "../errors.ts";

/** Options of a WebSocket route (`router.ws(pattern, handlers, options)`); checked at registration. */
export interface WsOptions {
  /**
   * Largest message (after decompression) in bytes. A bigger one closes the connection with
   * 1009 (Message Too Big), so a peer cannot make the server buffer without bound. Default 1 MiB.
   */
  readonly maxPayload?: number;
  /**
   * After this long without a message or pong from the peer the server sends a ping; a peer that
   * does not answer within {@link pongTimeout} is cut (dead peers hold descriptors and memory
   * forever otherwise). Milliseconds; default 60 s; `null`: never.
   */
  readonly idleTimeout?: number | null;
  /** How long a ping may wait for its pong before the connection is cut. Milliseconds; default 10 s. */
  readonly pongTimeout?: number;
  /**
   * Subprotocols the server speaks, preferred first. The first of them the client offers
   * (`Sec-WebSocket-Protocol`) is selected; none in common: the connection opens without one
   * (RFC 6455 §4.2.2), and a client that required one closes it. Default: none.
   */
  readonly protocols?: readonly string[];
  /**
   * Origins (`scheme://host[:port]`) allowed to open a connection; a browser request from any
   * other origin is answered 403 before the upgrade (cross-site WebSocket hijacking). A request
   * without `Origin` (not from a browser) is allowed. Default `null`: any origin.
   */
  readonly allowedOrigins?: readonly string[] | null;
  /**
   * permessage-deflate (RFC 7692). Off by default: compression costs CPU and a zlib context.
   * `true` negotiates it without context takeover (no zlib state kept between messages, so
   * memory per idle connection stays bounded) for messages of `threshold` bytes or more
   * (default 1 KiB); inflated messages are bound by {@link maxPayload} (1009 past it).
   */
  readonly perMessageDeflate?: boolean | { readonly threshold?: number };
  /** `send` returns `false` once more than this many bytes wait to be sent; `drain` follows when they are out. Default 1 MiB. */
  readonly backpressureLimit?: number;
}

/** {@link WsOptions} checked, with every default filled in. */
export interface ResolvedWsOptions {
  readonly maxPayload: number;
  readonly idleTimeout: number | null;
  readonly pongTimeout: number;
  readonly protocols: readonly string[];
  /** Lower-cased; `null`: any origin. */
  readonly allowedOrigins: ReadonlySet<string> | null;
  /** `null`: off; else the size from which messages are compressed. */
  readonly deflateThreshold: number | null;
  readonly backpressureLimit: number;
}

export const WS_DEFAULTS = {
  maxPayload: 1024 * 1024,
  idleTimeout: 60_000,
  pongTimeout: 10_000,
  deflateThreshold: 1024,
  backpressureLimit: 1024 * 1024,
} as const;

const OPTION_KEYS = new Set(["maxPayload", "idleTimeout", "pongTimeout", "protocols", "allowedOrigins", "perMessageDeflate", "backpressureLimit"]);

/** RFC 7230 token characters: what a subprotocol name may be made of (RFC 6455 §4.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function bad(field: string, want: string, got: unknown): TakoError {
  return new TakoError("TAKO_ERR_CONFIG", `WebSocket option ${field} must be ${want}, got ${typeof got === "string" ? JSON.stringify(got) : String(got)}`);
}

function positiveInt(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw bad(field, "a positive integer", value);
  return value;
}

/** Checks `options` and fills in the defaults; a bad value throws a `TakoError` naming the field. */
export function resolveWsOptions(options: WsOptions = {}): ResolvedWsOptions {
  if (typeof options !== "object" || options === null) throw new TakoError("TAKO_ERR_CONFIG", `WebSocket options must be an object, got ${String(options)}`);
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new TakoError("TAKO_ERR_CONFIG", `unknown WebSocket option ${JSON.stringify(key)}`);
  }
  const idle = options.idleTimeout;
  if (idle !== undefined && idle !== null && (typeof idle !== "number" || !Number.isInteger(idle) || idle < 1))
    throw bad("idleTimeout", "a positive integer number of milliseconds or null", idle);
  const protocols = options.protocols ?? [];
  if (!Array.isArray(protocols)) throw bad("protocols", "an array of subprotocol names", protocols);
  for (const p of protocols) if (typeof p !== "string" || !TOKEN.test(p)) throw bad("protocols", "an array of tokens (RFC 6455 §4.1)", p);
  const origins = options.allowedOrigins ?? null;
  if (origins !== null && !Array.isArray(origins)) throw bad("allowedOrigins", "an array of origins or null", origins);
  for (const o of origins ?? []) {
    if (typeof o !== "string" || !/^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+$/i.test(o)) throw bad("allowedOrigins", 'an array of origins like "https://example.com"', o);
  }
  const deflate = options.perMessageDeflate ?? false;
  let deflateThreshold: number | null;
  if (deflate === false) deflateThreshold = null;
  else if (deflate === true) deflateThreshold = WS_DEFAULTS.deflateThreshold;
  else if (typeof deflate === "object" && deflate !== null) {
    const t = deflate.threshold ?? WS_DEFAULTS.deflateThreshold;
    if (typeof t !== "number" || !Number.isInteger(t) || t < 0) throw bad("perMessageDeflate.threshold", "a non-negative integer number of bytes", t);
    deflateThreshold = t;
  } else throw bad("perMessageDeflate", "a boolean or { threshold }", deflate);
  return {
    maxPayload: positiveInt("maxPayload", options.maxPayload, WS_DEFAULTS.maxPayload),
    idleTimeout: idle === undefined ? WS_DEFAULTS.idleTimeout : idle,
    pongTimeout: positiveInt("pongTimeout", options.pongTimeout, WS_DEFAULTS.pongTimeout),
    protocols: [...protocols],
    allowedOrigins: origins === null ? null : new Set(origins.map((o) => o.toLowerCase())),
    deflateThreshold,
    backpressureLimit: positiveInt("backpressureLimit", options.backpressureLimit, WS_DEFAULTS.backpressureLimit),
  };
}
