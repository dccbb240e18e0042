import type { TakoRequest } from "../request.ts";
import type { ResolvedWsOptions } from "./options.ts";

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
}

/** How often the buffers of sockets whose `send` returned `false` are checked for `drain`. */
const DRAIN_CHECK_MS = 10;
/** Sockets waiting for their buffer to fall under the limit: one shared timer checks them all. */
const congested = new Set<WsSocket<unknown, unknown>>();
let drainTimer: ReturnType<typeof setInterval> | null = null;

/**
 * The drain check: no per-send callback and no per-socket timer (a send costs nothing extra),
 * one interval while any socket is congested. Polling also works the same on every runtime's
 * WebSocket, none of which reports "buffer below N bytes" itself.
 */
function checkDrains(): void {
  for (const ws of congested) ws.checkDrain();
  if (congested.size === 0 && drainTimer !== null) {
    clearInterval(drainTimer);
    drainTimer = null;
  }
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
  #onDrain: (() => void) | null = null;

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
    if (this.#onDrain !== null) {
      congested.add(this as WsSocket<unknown, unknown>);
      drainTimer ??= setInterval(checkDrains, DRAIN_CHECK_MS);
    }
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
    congested.delete(this as WsSocket<unknown, unknown>);
  }

  /** @internal `fn` runs once the buffer is under the limit after a `send` returned `false` (the `drain` handler). */
  set onDrain(fn: () => void) {
    this.#onDrain = fn;
  }

  /** @internal The shared drain check: under the limit again → `drain`. */
  checkDrain(): void {
    if (this.#closing) return void congested.delete(this as WsSocket<unknown, unknown>);
    if (this.#link.bufferedAmount > this.#limit) return;
    congested.delete(this as WsSocket<unknown, unknown>);
    this.#onDrain?.();
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

/**
 * The idle check of one connection: a ping after `idleTimeout` without a message or pong, and
 * the connection cut when the pong does not come within `pongTimeout`. One timer per
 * connection, re-armed only when it fires (activity just moves a timestamp).
 */
export class IdleWatch {
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
