import type { ServerConfig } from "../core/config.ts";
import type { Dispatcher } from "../core/router/types.ts";
import type { TlsCert } from "../core/tls.ts";

/** An address a listener is bound to. */
export interface SocketAddr {
  readonly address: string;
  readonly port: number;
  readonly family: "IPv4" | "IPv6";
}

/**
 * A running transport on a bound socket: the engine half of the lifecycle. The runtime-neutral
 * `ServerHandle` drives it (accept → track → drain → force-close is written once, there).
 */
export interface Serving {
  /** Resolves when the listener is closed and every connection is gone. */
  readonly closed: Promise<void>;
  /** Resolves once connections are being accepted (at once, except while switching paths). */
  readonly ready: Promise<void>;
  /**
   * Starts the graceful drain: stop accepting (new connects are refused), close idle
   * connections now, let in-flight requests finish with `Connection: close`, close each
   * connection after its last response. Idempotent.
   */
  drain(): void;
  /** Destroys every remaining connection (the drain deadline). Idempotent. */
  forceClose(): void;
}

/** Options of `spawnH2c` / `serveH2c`. */
export interface H2cOptions {
  /**
   * Also serve HTTP/1.1 on the same port: each connection is HTTP/2 when it opens with the
   * HTTP/2 client preface, HTTP/1.1 otherwise. Default `false`: the port speaks only h2c.
   */
  readonly http1: boolean;
}

/** How a listener treats the PROXY protocol (`Server.builder().proxyProtocol(mode)`). */
export type ProxyMode = "off" | "required" | "optional";

/** Builder settings every transport takes. */
export interface ServeOptions {
  readonly proxyProtocol: ProxyMode;
  /** A PROXY v2 header whose CRC32C does not match: closed (`"reject"`, default) or served with `crc32cVerified: false` (`"flag"`). */
  readonly proxyBadCrc: "reject" | "flag";
}

/** What `spawnTls` hands the engine: checked material and the ALPN choice. */
export interface TlsOptions {
  readonly cert: TlsCert;
  /** Offer `h2` before `http/1.1` in ALPN; `false`: only `http/1.1`. */
  readonly http2: boolean;
}

/**
 * A bound TCP socket as a runtime engine holds it. Binding happens first (so port 0 is known
 * before anything is served); serving attaches a transport to the bound socket.
 */
export interface BoundSocket {
  localAddr(): SocketAddr;
  /**
   * Serves HTTP/1.1 on this socket under `config`. `explicit` lists the fields the user set:
   * an engine whose native server cannot honour one of them serves through its socket path
   * instead. Called at most once.
   */
  serveHttp(router: Dispatcher, config: ServerConfig, explicit: ReadonlySet<keyof ServerConfig>, serve: ServeOptions): Serving;
  /**
   * Serves prior-knowledge h2c on this socket under `config` (and HTTP/1.1 too when
   * `options.http1`, chosen per connection from the client preface). Called at most once.
   */
  serveH2c(router: Dispatcher, config: ServerConfig, explicit: ReadonlySet<keyof ServerConfig>, options: H2cOptions, serve: ServeOptions): Serving;
  /**
   * Serves HTTPS on this socket: TLS with tako's policy, then HTTP/2 or HTTP/1.1 by ALPN, under
   * `config`. Throws a `TakoError` at once for material or a field the runtime cannot honour.
   */
  serveTls(router: Dispatcher, config: ServerConfig, explicit: ReadonlySet<keyof ServerConfig>, tls: TlsOptions, serve: ServeOptions): Serving;
  /** Stops listening and destroys every connection at once. Idempotent. */
  close(): Promise<void>;
}

/** What each runtime folder provides. */
export interface Engine {
  readonly runtime: "node" | "bun" | "deno";
  bind(host: string, port: number): Promise<BoundSocket>;
  /** Calls `handler` once on any of `signals`; returns a function that removes the hook. */
  onSignals(signals: readonly string[], handler: (signal: string) => void): () => void;
}

/** The runtime this code runs on. */
export function detectRuntime(): Engine["runtime"] {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

let engine: Promise<Engine> | null = null;

/** Loads the engine for the current runtime once; the others are never imported. */
export function loadEngine(): Promise<Engine> {
  if (engine === null) {
    const runtime = detectRuntime();
    engine =
      runtime === "bun"
        ? import("../adapters/bun/engine.ts").then((m) => m.bunEngine)
        : runtime === "deno"
          ? import("../adapters/deno/engine.ts").then((m) => m.denoEngine)
          : import("../adapters/node/engine.ts").then((m) => m.nodeEngine);
  }
  return engine;
}
