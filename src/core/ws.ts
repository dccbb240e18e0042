import { HttpError, TakoError } from "./errors.ts";
import type { TakoRequest } from "./request.ts";
import type { HandlerResult } from "./responder.ts";

/**
 * WebSocket routes (RFC 6455), runtime-neutral: the handshake checks, the options, the socket
 * object handlers see, the idle ping/pong and the per-server registry the drain closes. The
 * frame codec is never ours: engines hand the upgrade to the runtime's WebSocket (the `ws`
 * package on node:http, `Deno.upgradeWebSocket` on Deno's own server) through a {@link WsLink}.
 */

/** A WebSocket message: a string for a text message, bytes for a binary one. */
export type WsData = string | Uint8Array;

/** What a WebSocket route does with its connections. Every handler is optional. */
export interface WsHandlers<P = Readonly<Record<string, string>>, S = unknown> {
  /** The connection is open (after the 101); `ws.req` is the request that upgraded it. */
  open?(ws: WsSocket<P, S>): void | Promise<void>;
  /** A whole message arrived (fragments are joined by the runtime): a string for text, bytes for binary. */
  message?(ws: WsSocket<P, S>, data: WsData): void | Promise<void>;
  /** The connection is closed: the peer's close code and reason, or 1006 with `""` when it went away without one. */
  close?(ws: WsSocket<P, S>, code: number, reason: string): void | Promise<void>;
  /** Data buffered for sending fell back under `backpressureLimit` after a `send` returned `false`: send more. */
  drain?(ws: WsSocket<P, S>): void | Promise<void>;
}

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

/**
 * What an engine gives the core for one open connection: the runtime's WebSocket, reduced to
 * what {@link WsSocket} needs. Engines report events through the {@link WsPeer} they get back.
 */
export interface WsLink {
  send(data: WsData): void;
  close(code: number, reason: string): void;
  /** Sends a ping; `false` where the runtime cannot. */
  ping(): boolean;
  /** Closes at once, without a closing handshake. */
  terminate(): void;
  readonly bufferedAmount: number;
  readonly protocol: string;
  readonly extensions: string;
}

/** The engine's side of an open connection: it reports what the runtime's WebSocket saw. */
export interface WsPeer {
  message(data: WsData): void;
  pong(): void;
  /** The connection is closed (reported once; later calls are ignored). */
  closed(code: number, reason: string): void;
  /** Buffered data went out: call after sends complete (the core decides whether `drain` is due). */
  flushed(): void;
}

/**
 * An open WebSocket connection, as handlers see it. Its `req` is the request that upgraded it:
 * path params, headers, and `req.conn` (addresses, TLS facts and peer certificate, PROXY header).
 */
export class WsSocket<P = Readonly<Record<string, string>>, S = unknown> {
  /** The upgrading request. */
  readonly req: TakoRequest<P, S>;
  /** Application data for this connection (e.g. the user a middleware authenticated); starts `undefined`. */
  data: unknown = undefined;
  readonly #link: WsLink;
  readonly #limit: number;
  #closing = false;
  #congested = false;

  /** @internal Engines make sockets through {@link WsAccept.open}. */
  constructor(req: TakoRequest<P, S>, link: WsLink, limit: number) {
    this.req = req;
    this.#link = link;
    this.#limit = limit;
  }

  /**
   * Sends a message: a string as text, bytes as binary. Returns `false` when more than
   * `backpressureLimit` bytes now wait to be sent (the `drain` handler runs once they are out):
   * stop producing until then. After `close()` nothing is sent and the result is `false`.
   */
  send(data: WsData): boolean {
    if (this.#closing) return false;
    this.#link.send(data);
    if (this.#link.bufferedAmount <= this.#limit) return true;
    this.#congested = true;
    return false;
  }

  /** Starts the closing handshake (default 1000, no reason); the `close` handler runs when it ends. */
  close(code = 1000, reason = ""): void {
    if (this.#closing) return;
    if (!validCloseCode(code)) throw new RangeError(`WebSocket close code must be 1000, 1001-1003, 1007-1014 or 3000-4999, got ${code}`);
    if (utf8Length(reason) > 123) throw new RangeError("WebSocket close reason must be at most 123 bytes of UTF-8 (RFC 6455 §5.5)");
    this.#closing = true;
    this.#link.close(code, reason);
  }

  /** Sends a ping; `false` when the socket is closing (or on a runtime that offers no ping). */
  ping(): boolean {
    return !this.#closing && this.#link.ping();
  }

  /** Bytes queued and not yet handed to the operating system. */
  get bufferedAmount(): number {
    return this.#link.bufferedAmount;
  }

  /** The selected subprotocol, `""` for none. */
  get protocol(): string {
    return this.#link.protocol;
  }

  /** The negotiated extensions (`Sec-WebSocket-Extensions` of the 101), `""` for none. */
  get extensions(): string {
    return this.#link.extensions;
  }

  /** @internal */
  markClosing(): void {
    this.#closing = true;
  }

  /** @internal True once, when a `send` returned `false` and the buffer is now under the limit. */
  takeDrain(): boolean {
    if (!this.#congested || this.#link.bufferedAmount > this.#limit) return false;
    this.#congested = false;
    return true;
  }

  /** @internal */
  get congested(): boolean {
    return this.#congested;
  }

  /** @internal */
  get link(): WsLink {
    return this.#link;
  }
}

function validCloseCode(code: number): boolean {
  return Number.isInteger(code) && (code === 1000 || (code >= 1001 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999));
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** Close code sent by the server when it shuts down (RFC 6455 §7.4.1 "going away"). */
export const WS_GOING_AWAY = 1001;

/**
 * The live WebSocket connections of one server: what the drain closes with 1001 ("going
 * away"). Engines make one per transport and call {@link drain} from their graceful drain.
 */
export class WsHub {
  readonly #open = new Set<WsSocket<unknown, unknown>>();
  #draining = false;

  /** Connections open now. */
  get size(): number {
    return this.#open.size;
  }

  /** True once the drain began: new upgrades are refused (503). */
  get draining(): boolean {
    return this.#draining;
  }

  /** @internal */
  add(ws: WsSocket<unknown, unknown>): void {
    this.#open.add(ws);
  }

  /** @internal */
  delete(ws: WsSocket<unknown, unknown>): void {
    this.#open.delete(ws);
  }

  /** Sends every open connection a close 1001 ("going away"); each ends when its peer answers (or when the drain deadline destroys it). Idempotent. */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const ws of this.#open) {
      ws.markClosing();
      ws.link.close(WS_GOING_AWAY, "server shutting down");
    }
  }
}

/** The status of a refused upgrade on a path that cannot upgrade (HTTP/2, in process): 426 Upgrade Required. */
const UPGRADE_REQUIRED = 426;

/** Accepted upgrades by the placeholder response they answer with (see {@link WsAccept.intoResponse}). */
const accepted = new WeakMap<Response, WsAccept>();

/**
 * A request the WebSocket route accepted (headers, origin and middleware passed): what its
 * handler returns. An engine that can upgrade finds it with {@link upgradeOf} and hands the
 * connection to the runtime's WebSocket; anywhere else (HTTP/2, `router.fetch` in process) it
 * answers as 426 Upgrade Required. Middleware must pass the `Response` of `next()` through
 * (adding headers to it is fine); a middleware that replaces it cancels the upgrade.
 */
export class WsAccept {
  readonly req: TakoRequest<unknown, unknown>;
  readonly handlers: WsHandlers<unknown, unknown>;
  readonly options: ResolvedWsOptions;
  /** The subprotocol to select, `""` for none. */
  readonly protocol: string;

  /** @internal */
  constructor(req: TakoRequest<unknown, unknown>, handlers: WsHandlers<unknown, unknown>, options: ResolvedWsOptions, protocol: string) {
    this.req = req;
    this.handlers = handlers;
    this.options = options;
    this.protocol = protocol;
  }

  intoResponse(): Response {
    const response = new Response("Upgrade Required: this route speaks WebSocket over HTTP/1.1", {
      status: UPGRADE_REQUIRED,
      headers: { upgrade: "websocket", connection: "Upgrade", "content-type": "text/plain; charset=utf-8" },
    });
    accepted.set(response, this);
    return response;
  }

  /**
   * The engine has upgraded the connection: makes the socket, registers it with `hub`, runs
   * `open`, and returns the peer the engine reports events to. `report` receives handler errors.
   */
  open(link: WsLink, hub: WsHub, report: (error: unknown) => void): WsPeer {
    const ws = new WsSocket<unknown, unknown>(this.req, link, this.options.backpressureLimit);
    const h = this.handlers;
    const fail = (error: unknown): void => {
      report(error);
      // A handler that throws must not leave the peer talking to a broken session (1011, RFC 6455 §7.4.1).
      try {
        ws.close(1011, "internal error");
      } catch {
        // already closing
      }
    };
    const call = (run: () => void | Promise<void>): void => {
      try {
        const out = run();
        if (out instanceof Promise) out.catch(fail);
      } catch (error) {
        fail(error);
      }
    };
    const idle = new IdleWatch(link, this.options);
    let closed = false;
    hub.add(ws);
    if (hub.draining) {
      ws.markClosing();
      link.close(WS_GOING_AWAY, "server shutting down");
    }
    if (h.open !== undefined) call(() => h.open!(ws));
    const maxPayload = this.options.maxPayload;
    return {
      message(data) {
        if (closed) return;
        idle.seen();
        // The runtime bounds it already where it can (ws: maxPayload); a last check for the others.
        if ((typeof data === "string" ? data.length : data.byteLength) > maxPayload && (typeof data !== "string" || utf8Length(data) > maxPayload)) {
          ws.markClosing();
          link.close(1009, "message too big");
          return;
        }
        if (h.message !== undefined) call(() => h.message!(ws, data));
      },
      pong() {
        idle.seen();
      },
      closed(code, reason) {
        if (closed) return;
        closed = true;
        idle.stop();
        ws.markClosing();
        hub.delete(ws);
        if (h.close !== undefined) call(() => h.close!(ws, code, reason));
      },
      flushed() {
        if (!closed && ws.takeDrain() && h.drain !== undefined) call(() => h.drain!(ws));
      },
    };
  }
}

/** The accepted upgrade a handler result stands for, or `null` (engines; cheap for any result). */
export function upgradeOf(value: HandlerResult): WsAccept | null {
  if (value instanceof WsAccept) return value;
  if (value instanceof Response) return accepted.get(value) ?? null;
  return null;
}

/**
 * The idle check of one connection: a ping after `idleTimeout` without a message or pong, and
 * the connection cut when the pong does not come within `pongTimeout`. One timer per
 * connection, re-armed only when it fires (activity just moves a timestamp).
 */
class IdleWatch {
  readonly #link: WsLink;
  readonly #idle: number | null;
  readonly #pong: number;
  #last = Date.now();
  #pinged = false;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(link: WsLink, options: ResolvedWsOptions) {
    this.#link = link;
    this.#idle = options.idleTimeout;
    this.#pong = options.pongTimeout;
    if (this.#idle !== null) this.#arm(this.#idle);
  }

  seen(): void {
    this.#last = Date.now();
    this.#pinged = false;
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#check(), ms);
  }

  #check(): void {
    const idle = this.#idle!;
    if (this.#pinged) {
      // No pong in time: the peer is gone or stuck. No closing handshake to wait for.
      this.#timer = null;
      this.#link.terminate();
      return;
    }
    const quiet = Date.now() - this.#last;
    if (quiet < idle) return this.#arm(idle - quiet);
    this.#pinged = this.#link.ping();
    this.#arm(this.#pinged ? this.#pong : idle);
  }
}

/** Why a request cannot be upgraded by RFC 6455 §4.2.1, with the status to answer; `null` when it can. */
export function handshakeProblem(req: TakoRequest<unknown, unknown>): { status: number; message: string; headers?: Record<string, string> } | null {
  const upgrade = req.header("upgrade");
  if (
    upgrade === null ||
    !upgrade
      .toLowerCase()
      .split(",")
      .some((t) => t.trim() === "websocket")
  ) {
    return { status: UPGRADE_REQUIRED, message: "this route speaks WebSocket: send Upgrade: websocket", headers: { upgrade: "websocket", connection: "Upgrade" } };
  }
  const connection = req.header("connection");
  if (
    connection === null ||
    !connection
      .toLowerCase()
      .split(",")
      .some((t) => t.trim() === "upgrade")
  ) {
    return { status: 400, message: "WebSocket handshake without Connection: Upgrade" };
  }
  if (req.header("sec-websocket-version") !== "13") {
    // RFC 6455 §4.4: say which version the server speaks.
    return { status: UPGRADE_REQUIRED, message: "unsupported WebSocket version: this server speaks 13", headers: { "sec-websocket-version": "13" } };
  }
  const key = req.header("sec-websocket-key");
  if (key === null || !/^[A-Za-z0-9+/]{22}==$/.test(key.trim())) return { status: 400, message: "WebSocket handshake with a missing or malformed Sec-WebSocket-Key" };
  return null;
}

/** The subprotocol to select: the server's first preference the client offered, `""` for none. */
export function selectProtocol(offered: string | null, protocols: readonly string[]): string {
  if (offered === null || protocols.length === 0) return "";
  const set = new Set(offered.split(",").map((p) => p.trim()));
  return protocols.find((p) => set.has(p)) ?? "";
}

/**
 * The handler of a WebSocket route: checks the handshake (426 / 400) and the origin (403), picks
 * the subprotocol, and accepts. It runs inside the route's middleware, so a middleware can
 * answer first (401, 403, 429 …) with an ordinary response and no upgrade happens.
 */
export function wsRoute(handlers: WsHandlers<unknown, unknown>, options: ResolvedWsOptions): (req: TakoRequest<unknown, unknown>) => WsAccept {
  if (typeof handlers !== "object" || handlers === null)
    throw new TakoError("TAKO_ERR_CONFIG", "WebSocket handlers must be an object of { open, message, close, drain } functions");
  for (const name of Object.keys(handlers)) {
    if (!["open", "message", "close", "drain"].includes(name))
      throw new TakoError("TAKO_ERR_CONFIG", `unknown WebSocket handler ${JSON.stringify(name)} (expected open, message, close, drain)`);
    if (typeof (handlers as Record<string, unknown>)[name] !== "function") throw new TakoError("TAKO_ERR_CONFIG", `WebSocket handler ${name} must be a function`);
  }
  const origins = options.allowedOrigins;
  return (req) => {
    const problem = handshakeProblem(req);
    if (problem !== null) throw new HttpError(problem.status, problem.message, problem.headers);
    if (origins !== null) {
      const origin = req.header("origin");
      if (origin !== null && !origins.has(origin.toLowerCase())) throw new HttpError(403, "origin not allowed");
    }
    return new WsAccept(req, handlers, options, selectProtocol(req.header("sec-websocket-protocol"), options.protocols));
  };
}
