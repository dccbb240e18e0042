import { type BodyDeadline, bodyDeadline } from "../../core/body.ts";
import type { ServerConfig } from "../../core/config.ts";
import { h2Refusal, H2_NO_ERROR } from "../../core/h2.ts";
import type { H2ConnectionOptions } from "../../core/http2/index.ts";
import { ProxyHeaderReader } from "../../core/proxy-protocol/index.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import type { ProxyOptions, SocketAddr } from "../engine.ts";
import { BUSY_HTTP1 } from "../node/acceptor.ts";
import { WsBridge } from "../shared/ws-bridge.ts";
import { http1Deadlines } from "../shared/deadline.ts";
import { connectionCap } from "../shared/descriptors.ts";
import { Lifecycle } from "../shared/lifecycle.ts";
import { RateSample } from "../shared/rate.ts";
import { dateFields, h2Limits } from "./h2-facts.ts";
import type { H1Conn } from "./h1-conn.ts";
import type { WireTls } from "./socket.ts";

const BUSY = new TextEncoder().encode(BUSY_HTTP1);
/** Sent to an HTTP/2 connection over `maxConnections`: SETTINGS, then GOAWAY(0, NO_ERROR) with the reason (as Node's path). */
const BUSY_H2 = h2Refusal(H2_NO_ERROR, "server at connection limit");

/**
 * Which connections speak HTTP/2 (tako's codec): none, every one (h2c only), those that open
 * with the client preface (h2c next to HTTP/1.1), or those whose TLS handshake chose `h2` by ALPN.
 */
export type H2Mode = "off" | "only" | "sniff" | "alpn";

/** What a connection opens with before HTTP/1.1: a PROXY header, then TLS (either, both or neither). */
export interface H1Opening {
  readonly proxy: ProxyOptions;
  /** TLS (the runtime's part: Bun's in-place upgrade, Deno's handshake); `null`: cleartext. */
  readonly tls: WireTls | null;
  /** Which connections are HTTP/2 after the opening; default `"off"`. */
  readonly http2?: H2Mode;
}

const CLEARTEXT: H1Opening = { proxy: { mode: "off", onBadCrc: "reject" }, tls: null };

/** What an {@link H1Server} is told of the listener that feeds it (`Bun.listen`, or a Deno accept loop). */
export interface H1Binding {
  /** The address bound (a Unix path as `displayPath` shows it). */
  readonly local: SocketAddr;
  /** A Unix listener's path as tako shows it; `null` on TCP. */
  readonly unixPath: string | null;
  /** Stops accepting; settles once the listener is closed (no connect reaches it any more). */
  stop(): void | Promise<void>;
}

/**
 * How often the sweep runs: a quarter of the shortest deadline, between 10 ms and 1 s (as
 * node:http checks its header timeout), so a deadline fires at most that late; every second
 * without one (lingering bounds, the Date header).
 */
function sweepInterval(deadlines: readonly (number | null)[]): number {
  const set = deadlines.filter((d): d is number => d !== null);
  if (set.length === 0) return 1000;
  return Math.max(10, Math.min(1000, Math.floor(Math.min(...set) / 4)));
}

/**
 * HTTP/1.1 served from raw TCP or Unix sockets (`Bun.listen`; `Deno.listen`, `Deno.listenTls`) with tako's codec (`core/http1/`): no runtime HTTP
 * server in between, so every policy is tako's own and measured from the first byte:
 *
 * - the connection cap in the {@link Lifecycle} kernel (the oldest idle connection, or a stalled
 *   upload, is shed at the cap; else the new one gets 503 and is closed);
 * - the deadlines ({@link http1Deadlines}), checked by one sweep timer for every connection (no
 *   timer per request): the first head within `headerReadTimeout` (else 408 and close, however
 *   the bytes trickle), the next one within `min(keepAliveTimeout, headerReadTimeout)` after the
 *   last response (else closed); lingering closes within their bound;
 * - the drain: stop listening, close idle connections at once, `Connection: close` on the
 *   responses in flight and a close after each, a close 1001 to each open WebSocket (handed to
 *   `ws` by {@link H1Conn}, counted against the cap until it closes); the drain deadline cuts the rest.
 *
 * One connection's protocol work is {@link H1Conn}'s. The listener is the runtime's
 * ({@link H1Binding}): it makes an `H1Conn` for each accepted socket and hands it to {@link accept}.
 */
export class H1Server {
  /** What requests are dispatched to; set by {@link serve}. */
  router: Dispatcher = null as unknown as Dispatcher;
  /** `ServerConfig.keepAlive`: `false` closes every connection after its response. */
  keepAlive = true;
  /** The body deadline of `bodyReadTimeout` and `bodyMinRate`, `null` when off. */
  bodyDeadline: BodyDeadline | null = null;
  /** `ServerConfig.handlerTimeout`. */
  handlerTimeout: number | null = null;
  /** The address bound (a Unix path as `displayPath` shows it). */
  readonly local: SocketAddr;
  /** A Unix listener's path as tako shows it; `null` on TCP. */
  readonly unixPath: string | null;
  readonly lifecycle = new Lifecycle<H1Conn>();
  /** A drain started: responses carry `Connection: close`. */
  closing = false;
  /** The drain deadline cut the connections: `req.signal` says so. */
  forced = false;
  /** `ServerConfig.proxyReadTimeout` (read when a PROXY header is late). */
  proxyReadTimeout = 0;
  /** `ServerConfig.tlsHandshakeTimeout`. */
  tlsHandshakeTimeout: number | null = null;
  #opening: H1Opening = CLEARTEXT;
  /** The clock of the last sweep (ms since epoch). */
  now = Date.now();
  /** `["date", <IMF-fixdate>]`, and the fields of a text and a JSON response with it: refreshed by the sweep. */
  dateHeader: readonly string[];
  textHeaders: readonly string[];
  jsonHeaders: readonly string[];
  /** Which connections are HTTP/2 (tako's codec, {@link H2Conn}). */
  http2: H2Mode = "off";
  /** The codec's limits, from the `h2*` config fields. */
  h2Options: H2ConnectionOptions = {};
  /** HTTP/2 deadlines (ms, `Infinity`: off): the first request, no open stream, the PING interval. */
  h2FirstHead = Infinity;
  h2Idle = Infinity;
  h2Ping = Infinity;
  #ws: WsBridge | null = null;
  readonly #conns = new Set<H1Conn>();
  /** Connections accepted before {@link serve}: their bytes wait in their parser's stash. */
  #waiting: Set<H1Conn> | null = new Set();
  #firstHead = Infinity;
  #nextHead = Infinity;
  #minRate: number | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  readonly #binding: H1Binding;
  #listening = true;

  /** WebSocket upgrades (the `ws` package, fed by {@link H1Conn}): made at {@link serve} for a router with WebSocket routes, else at the first upgrade. */
  get ws(): WsBridge {
    return (this.#ws ??= new WsBridge(this.router));
  }

  /**
   * `bind` binds now (throwing the runtime's error, `EADDRINUSE` …, when it cannot) and feeds
   * this server; connections accepted before {@link serve} wait for it, their bytes kept unread.
   */
  constructor(bind: (server: H1Server) => H1Binding) {
    ({ dateHeader: this.dateHeader, textHeaders: this.textHeaders, jsonHeaders: this.jsonHeaders } = dateFields(this.now));
    this.#binding = bind(this);
    this.local = this.#binding.local;
    this.unixPath = this.#binding.unixPath;
  }

  /**
   * Serves `router` with `config`'s policy: the connections that waited are admitted under the
   * cap (their deadlines count from their accept) and their bytes parsed.
   */
  serve(router: Dispatcher, config: ServerConfig, opening: H1Opening = CLEARTEXT): Lifecycle<H1Conn> {
    this.router = router;
    if (router.hasUpgrades?.() === true) void this.ws; // starts loading `ws`
    this.#opening = opening;
    this.proxyReadTimeout = config.proxyReadTimeout;
    this.tlsHandshakeTimeout = config.tlsHandshakeTimeout;
    this.http2 = opening.http2 ?? "off";
    ({ h2Options: this.h2Options, h2FirstHead: this.h2FirstHead, h2Idle: this.h2Idle, h2Ping: this.h2Ping } = h2Limits(config));
    this.keepAlive = config.keepAlive;
    this.bodyDeadline = bodyDeadline(config);
    this.handlerTimeout = config.handlerTimeout;
    this.#minRate = config.bodyReadTimeout === null ? null : (config.bodyMinRate ?? 1);
    const { firstHead, nextHead } = http1Deadlines(config);
    this.#firstHead = firstHead ?? Infinity;
    this.#nextHead = nextHead ?? Infinity;
    const lifecycle = this.lifecycle;
    lifecycle.start(
      {
        stopAccepting: () => {
          const stopped = this.#stopListening();
          if (stopped === undefined) lifecycle.listenerClosed();
          else stopped.then(() => lifecycle.listenerClosed());
        },
        drainConnections: () => this.#drain(),
        destroyConnections: () => this.#destroyAll(),
        released: () => {
          if (this.#timer !== null) clearInterval(this.#timer);
          this.#stopListening();
        },
        idle: (conn) => this.#idle(conn as H1Conn),
        shed: (conn) => {
          this.#conns.delete(conn as H1Conn);
          (conn as H1Conn).destroy();
        },
        peer: (conn) => {
          return (conn as H1Conn).peer();
        },
      },
      connectionCap(config, opening.tls?.descriptors ?? 1),
    );
    const h2Deadlines = this.http2 === "off" ? [] : [config.headerReadTimeout, config.keepAliveTimeout, config.h2KeepAliveInterval];
    const gates = [opening.proxy.mode === "off" ? null : config.proxyReadTimeout, opening.tls === null ? null : config.tlsHandshakeTimeout];
    this.#timer = setInterval(() => this.#sweep(), sweepInterval([firstHead, nextHead, ...gates, ...h2Deadlines]));
    const waiting = this.#waiting ?? new Set<H1Conn>();
    this.#waiting = null;
    for (const conn of waiting) this.#admit(conn);
    return lifecycle;
  }

  /** Gives the port up (another server binds it in this turn): stops listening, closes the connections that waited. */
  abandon(): void {
    this.#stopListening();
    const waiting = this.#waiting ?? new Set<H1Conn>();
    this.#waiting = null;
    for (const conn of waiting) conn.destroy();
  }

  /** A connection the listener accepted (its socket's events already go to it). */
  accept(conn: H1Conn): void {
    conn.raw.setNoDelay(true);
    const waiting = this.#waiting;
    if (waiting !== null) {
      waiting.add(conn);
      conn.hold();
      return;
    }
    this.#admit(conn);
  }

  #admit(conn: H1Conn): void {
    if (!conn.alive) return;
    const opening = this.#opening;
    if (this.closing || !this.lifecycle.admit(conn)) {
      // Over TLS there is nothing to say in clear: closed before the handshake.
      if (opening.tls !== null) return conn.destroy();
      // Not tracked: 503 (HTTP/2: SETTINGS and GOAWAY) and close; a peer that never reads is cut after a second.
      if (this.http2 === "only") conn.refuse(BUSY_H2);
      else if (this.http2 === "sniff") conn.refuseSniffing(BUSY, BUSY_H2);
      else conn.refuse(BUSY);
      setTimeout(() => conn.destroy(), 1000);
      return;
    }
    this.#conns.add(conn);
    const proxy = opening.proxy;
    if (proxy.mode !== "off") {
      const tls = opening.tls === null ? null : { tls: opening.tls, timeout: this.tlsHandshakeTimeout };
      conn.expectProxy(new ProxyHeaderReader(proxy.mode, proxy.onBadCrc), Date.now() + this.proxyReadTimeout, tls);
    } else if (opening.tls !== null) {
      const handshake = this.tlsHandshakeTimeout;
      try {
        conn.upgrade(opening.tls, handshake === null ? Infinity : Date.now() + handshake);
      } catch {
        return conn.destroy();
      }
    }
    conn.start();
  }

  /** A connection closed. */
  release(conn: H1Conn): void {
    this.#waiting?.delete(conn);
    this.#conns.delete(conn);
    this.lifecycle.release(conn);
  }

  /** No request in flight (a head arriving, or kept alive between requests), or a stalled upload. */
  #idle(conn: H1Conn): boolean {
    if (conn.idle) return true;
    const minRate = this.#minRate;
    const pipe = conn.current?.pipe;
    if (minRate === null || pipe == null || !pipe.waiting) return false;
    return (conn.rate ??= new RateSample()).below(pipe.received, minRate);
  }

  /**
   * The sweep: the clock and Date header are refreshed; a connection waiting for its first head
   * past `headerReadTimeout` gets 408 and is closed; one idle after its last response past the
   * between-requests deadline is closed; lingering and closing connections past their bound are cut.
   */
  #sweep(): void {
    const now = Date.now();
    if (Math.floor(now / 1000) !== Math.floor(this.now / 1000)) {
      ({ dateHeader: this.dateHeader, textHeaders: this.textHeaders, jsonHeaders: this.jsonHeaders } = dateFields(now));
    }
    this.now = now;
    for (const conn of this.#conns) {
      if (conn.gateBy > 0) {
        if (now >= conn.gateBy) conn.gateExpired();
        continue;
      }
      if (conn.open) {
        const h2 = conn.h2;
        if (h2 !== null) {
          h2.sweep(now);
          continue;
        }
        if (conn.current !== null || conn.since < 0) continue;
        if (conn.requests === 0) {
          if (now - conn.since >= this.#firstHead) conn.timeOut();
        } else if (now - conn.since >= this.#nextHead) conn.closeIdle(); // FIN, as node:http's keep-alive timeout
      } else if (conn.lingering) {
        if (now >= conn.lingerUntil) conn.destroy();
      } else if (conn.endBy > 0 && now >= conn.endBy) conn.destroy();
    }
  }

  #stopListening(): void | Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    return this.#binding.stop();
  }

  #drain(): void {
    this.closing = true;
    // Open WebSockets are sent 1001 ("going away"); each ends when its peer answers or at the deadline.
    this.#ws?.hub.drain();
    for (const conn of this.#conns) conn.closeIdle();
  }

  #destroyAll(): void {
    this.forced = true;
    for (const conn of this.#conns) conn.destroy();
  }
}
