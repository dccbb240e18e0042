import type { ServerConfig } from "../core/config.ts";
import type { Dispatcher } from "../core/router/types.ts";
import type { TlsCert } from "../core/tls.ts";

/**
 * The engine contract: what the facade (`src/server/`) asks of a runtime engine, and all it
 * may assume. Each runtime folder (`node/`, `bun/`, `deno/`) implements it with that runtime's
 * primitives; the lifecycle every engine shares is written once in `shared/lifecycle.ts`.
 */

/**
 * An address a listener is bound to. A Unix socket: `family` `"unix"`, `address` its path (a
 * Linux abstract name as `"@name"`), `port` 0.
 */
export interface SocketAddr {
  readonly address: string;
  readonly port: number;
  readonly family: "IPv4" | "IPv6" | "unix";
}

/**
 * What an engine binds: a TCP address (with `SO_REUSEPORT` when `reusePort`), a Unix socket
 * path (`"\0name"`: a Linux abstract name; the facade has checked and cleared the path; `mode`
 * is applied by the engine after every bind of it, moves to the node:net path included), or a
 * listening socket the process inherited as descriptor `fd` (systemd socket activation, a parent
 * process). An engine that cannot bind one rejects with `TAKO_ERR_UNSUPPORTED` naming it.
 */
export type BindTarget =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number; readonly reusePort: boolean }
  | { readonly kind: "unix"; readonly path: string; readonly mode: number | null }
  | { readonly kind: "fd"; readonly fd: number };

/**
 * A running transport on a bound socket: the engine half of the lifecycle. The runtime-neutral
 * `ServerHandle` drives it; `Lifecycle` (shared/lifecycle.ts) is the one implementation.
 */
export interface Serving {
  /** Resolves when the listener is closed and every connection is gone. */
  readonly closed: Promise<void>;
  /** Resolves once connections are being accepted (at once, except while moving to another server). */
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

/** The PROXY protocol settings of a listener. */
export interface ProxyOptions {
  readonly mode: ProxyMode;
  /** A PROXY v2 header whose CRC32C does not match: closed (`"reject"`, default) or served with `crc32cVerified: false` (`"flag"`). */
  readonly onBadCrc: "reject" | "flag";
}

/** What `spawnTls` hands the engine: checked material and the ALPN choice. */
export interface TlsOptions {
  readonly cert: TlsCert;
  /** Offer `h2` before `http/1.1` in ALPN; `false`: only `http/1.1`. */
  readonly http2: boolean;
}

/** What every protocol is served with. */
export interface ServeBase {
  readonly router: Dispatcher;
  /** The validated configuration, defaults filled in. */
  readonly config: ServerConfig;
  /** The fields the user set: an engine refuses (`TAKO_ERR_UNSUPPORTED`) one it cannot honour. */
  readonly explicit: ReadonlySet<keyof ServerConfig>;
  readonly proxy: ProxyOptions;
}

/**
 * One description of what to serve on a bound socket, discriminated by `protocol`; an engine
 * decides its path for the whole spec once. New protocols (WebSocket upgrades, `h3`) are new
 * members here.
 */
export type ServeSpec =
  /** HTTP/1.1 (keep-alive, streamed bodies). */
  | (ServeBase & { readonly protocol: "http1" })
  /** Prior-knowledge HTTP/2 cleartext, and HTTP/1.1 on the same port when `http1`. */
  | (ServeBase & { readonly protocol: "h2c" } & H2cOptions)
  /** TLS with tako's policy, then HTTP/2 or HTTP/1.1 by ALPN. */
  | (ServeBase & { readonly protocol: "tls"; readonly tls: TlsOptions });

/**
 * What `spawnH3` hands an engine: HTTP/3 over QUIC on a UDP address that the engine binds
 * itself (no runtime hands a bound UDP socket to its QUIC stack). `proxy` is always off.
 */
export interface H3Spec extends ServeBase {
  /** An IP address (`"127.0.0.1"`, `"::"`); never a host name. */
  readonly host: string;
  /** 0: a free port, read back from {@link H3Serving.localAddr}. */
  readonly port: number;
  readonly tls: TlsCert;
}

/** HTTP/3 being served: the lifecycle of {@link Serving}, on the UDP address it bound. */
export interface H3Serving extends Serving {
  /** The UDP address served (family IPv4 or IPv6). */
  localAddr(): SocketAddr;
}

/**
 * A bound listening socket (TCP or Unix) as a runtime engine holds it. Binding happens first (so port 0 is known
 * before anything is served); `serve` attaches a transport to it, once.
 */
export interface EngineListener {
  localAddr(): SocketAddr;
  /**
   * Serves `spec` on this socket. Throws a `TakoError` at once for a field or material the
   * runtime cannot honour (`TAKO_ERR_UNSUPPORTED`, `TAKO_ERR_TLS`). Called at most once.
   */
  serve(spec: ServeSpec): Serving;
  /** Stops listening and destroys every connection at once. Idempotent. */
  close(): Promise<void>;
}

/** The runtimes tako runs on. */
export type Runtime = "node" | "bun" | "deno";

/** What each runtime folder provides. */
export interface Engine {
  readonly runtime: Runtime;
  /** Binds `target`; rejects with the runtime's error (the facade names it) or a `TakoError`. */
  bind(target: BindTarget): Promise<EngineListener>;
  /**
   * Binds UDP at `spec.host:spec.port` and serves HTTP/3 there. Rejects with a `TakoError`:
   * `TAKO_ERR_UNSUPPORTED` when the runtime has no HTTP/3 engine or cannot honour a field set
   * explicitly (naming it), `TAKO_ERR_TLS` for material it cannot use; or with the runtime's
   * error when the bind fails.
   */
  serveH3(spec: H3Spec): Promise<H3Serving>;
  /** Calls `handler` once on any of `signals`; returns a function that removes the hook. */
  onSignals(signals: readonly string[], handler: (signal: string) => void): () => void;
}
