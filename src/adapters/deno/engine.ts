import { SocketConnInfo, type ConnInfo, type TlsInfo } from "../../core/conn-info.ts";
import { DEFAULT_SERVER_CONFIG, type AcceptBackoff, type ServerConfig } from "../../core/config.ts";
import { FetchRequest } from "../../core/fetch-request.ts";
import { TakoError } from "../../core/errors.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import type { BoundSocket, Engine, H2cOptions, ServeOptions, Serving, SocketAddr, TlsOptions } from "../../server/engine.ts";
import { deferredServing, FetchDrain, socketPathField } from "../../server/fetch-drain.ts";
import { bindNodeSocket, type NodeBoundSocket } from "../node/engine.ts";
import { loadCert } from "../shared/tls-material.ts";

/** The part of Deno's API this engine uses (declared here so no Deno types leak elsewhere). */
interface DenoNetAddr {
  transport: "tcp";
  hostname: string;
  port: number;
}
interface DenoServeInfo {
  remoteAddr: DenoNetAddr;
}
interface DenoHttpServer {
  readonly addr: DenoNetAddr;
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}
interface DenoServeOptions {
  hostname: string;
  port: number;
  cert?: string;
  key?: string;
  onListen?(addr: DenoNetAddr): void;
  onError?(error: unknown): Response;
  handler(request: Request, info: DenoServeInfo): Response | Promise<Response>;
}
interface DenoApi {
  serve(options: DenoServeOptions): DenoHttpServer;
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
}

class DenoRequest extends FetchRequest {
  readonly #info: DenoServeInfo;
  readonly #local: SocketAddr;
  readonly #tls: boolean;
  constructor(native: Request, info: DenoServeInfo, local: SocketAddr, tls: boolean) {
    super(native, null);
    this.#info = info;
    this.#local = local;
    this.#tls = tls;
  }
  protected override makeConn(): ConnInfo {
    const peer = this.#info.remoteAddr;
    const http1 = isHttp1(this.raw);
    return new SocketConnInfo(peer.hostname, peer.port, this.#local.address, this.#local.port, http1 ? "1.1" : "2.0", this.#tls ? (http1 ? NATIVE_TLS_H1 : NATIVE_TLS_H2) : null);
  }
}

/**
 * Deno.serve does not say which protocol a request came over. Its HTTP/2 requests carry no
 * `Host` header (the authority is in the URL only) while HTTP/1.1 requires one (RFC 9112 §3.2):
 * the only signal available. An HTTP/1.1 request without `Host`, which Deno accepts, is taken
 * for HTTP/2.
 */
function isHttp1(request: Request): boolean {
  return request.headers.has("host");
}

/**
 * What Deno.serve tells about a TLS connection: nothing. HTTP/2 over TLS implies ALPN `h2`; an
 * HTTP/1.1 request is reported as `http/1.1` (also when the client sent no ALPN). SNI name,
 * version and cipher are unknown (`null`) on this path; the socket path has them all.
 */
const NATIVE_TLS_H2: TlsInfo = Object.freeze({ alpnProtocol: "h2", serverName: null, protocol: null, cipher: null, peerCertificate: null });
const NATIVE_TLS_H1: TlsInfo = Object.freeze({ alpnProtocol: "http/1.1", serverName: null, protocol: null, cipher: null, peerCertificate: null });

/** HTTP/2 fields Deno.serve cannot honour. */
const H2_FIELDS: readonly (keyof ServerConfig)[] = ["h2MaxConcurrentStreams", "h2MaxHeaderListSize", "h2MaxSendBufSize", "h2MaxPendingAcceptResetStreams", "h2KeepAliveInterval"];

/** Fields spawnH2c cannot honour on Deno.serve. */
const H2C_UNSUPPORTED: readonly (keyof ServerConfig)[] = [
  ...H2_FIELDS,
  "headerReadTimeout",
  "keepAliveTimeout",
  "maxConnections",
  "keepAlive",
];

const HTTP1_REFUSED = (): Response =>
  new Response("HTTP Version Not Supported: this port speaks HTTP/2 with prior knowledge (h2c)", { status: 505, headers: { "content-type": "text/plain; charset=utf-8", connection: "close" } });

const SERVER_ERROR = (): Response => new Response("Internal Server Error", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });

const deno = (): DenoApi => (globalThis as unknown as { Deno: DenoApi }).Deno;

/**
 * Deno engine. `Deno.serve` binds and listens in one step, so it starts at bind time with a
 * handler that waits until a router is attached. A config that needs connection hooks
 * Deno.serve lacks moves to Deno's node:net (the Node engine's socket path) on the same port.
 */
class DenoBoundSocket implements BoundSocket {
  #server: DenoHttpServer;
  readonly #local: SocketAddr;
  readonly #drain = new FetchDrain(true);
  #router: Dispatcher | null = null;
  /** spawnH2c without `http1`: HTTP/1.1 requests are refused (Deno.serve answers both). */
  #h2cOnly = false;
  readonly #attached: Promise<void>;
  #attach!: () => void;
  #shutdown: Promise<void> | null = null;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;
  #backoff: AcceptBackoff = DEFAULT_SERVER_CONFIG.acceptBackoff;
  #delay = 0;

  /** PEM for a native TLS server (`serveTls` with a plain certificate); `null`: cleartext. */
  readonly #pem: { readonly cert: string; readonly key: string } | null;

  constructor(host: string, port: number, pem: { readonly cert: string; readonly key: string } | null = null) {
    this.#pem = pem;
    this.#attached = new Promise((resolve) => (this.#attach = resolve));
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#server = this.#listen(host, port);
    const addr = this.#server.addr;
    this.#local = { address: addr.hostname, port: addr.port, family: addr.hostname.includes(":") ? "IPv6" : "IPv4" };
  }

  #listen(hostname: string, port: number): DenoHttpServer {
    const server = deno().serve({
      hostname,
      port,
      ...(this.#pem === null ? {} : { cert: this.#pem.cert, key: this.#pem.key }),
      onListen: () => {},
      onError: SERVER_ERROR,
      handler: (request, info) => {
        this.#delay = 0;
        const router = this.#router;
        if (router === null) return this.#attached.then(() => this.#dispatch(this.#router!, request, info));
        return this.#dispatch(router, request, info);
      },
    });
    server.finished.then(
      () => this.#resolveClosed(),
      (error: unknown) => this.#recover(error),
    );
    return server;
  }

  /**
   * Deno.serve's accept loop ends with an error when accept fails (EMFILE: measured). Unless the
   * server is stopping, listen again on the same port after the backoff delay, doubling it
   * while listening keeps failing.
   */
  #recover(error: unknown): void {
    if (this.#shutdown !== null) return this.#resolveClosed();
    this.#delay = this.#delay === 0 ? this.#backoff.initial : Math.min(this.#delay * 2, this.#backoff.max);
    console.error(`tako: Deno.serve stopped accepting (${error instanceof Error ? error.message : String(error)}); listening again in ${this.#delay} ms`);
    setTimeout(() => {
      if (this.#shutdown !== null) return this.#resolveClosed();
      try {
        this.#server = this.#listen(this.#local.address, this.#local.port);
      } catch (again) {
        this.#recover(again);
      }
    }, this.#delay);
  }

  #dispatch(router: Dispatcher, request: Request, info: DenoServeInfo): Response | Promise<Response> {
    if (this.#h2cOnly && isHttp1(request)) return HTTP1_REFUSED();
    // Deno.serve cannot destroy a connection: the drain deadline answers pending handlers instead.
    return router.handleFetch(new DenoRequest(request, info, this.#local, this.#pem !== null), this.#drain);
  }

  localAddr(): SocketAddr {
    return this.#local;
  }

  serveHttp(router: Dispatcher, config: ServerConfig, explicit: ReadonlySet<keyof ServerConfig>, serve: ServeOptions): Serving {
    // The PROXY protocol is read from the raw socket, which only the socket path has.
    if (socketPathField(explicit, "deno") !== null || serve.proxyProtocol !== "off") {
      return this.#socketPath((s) => s.serveHttp(router, config, explicit, serve));
    }
    return this.#serve(router, config);
  }

  /**
   * h2c on Deno.serve, which answers prior-knowledge HTTP/2 on every port. Deno's node:http2
   * could take tako's HTTP/2 transport, but it aborted the process under ordinary load (an
   * nghttp2 assertion, measured), so the fields only that transport honours are refused here.
   */
  serveH2c(router: Dispatcher, config: ServerConfig, explicit: ReadonlySet<keyof ServerConfig>, options: H2cOptions, serve: ServeOptions): Serving {
    if (serve.proxyProtocol !== "off") {
      throw new TakoError(
        "TAKO_ERR_UNSUPPORTED",
        "spawnH2c on Deno cannot read the PROXY protocol: h2c there is Deno.serve's, which never shows tako the raw socket (and Deno's node:http2 is not stable enough to replace it); use spawnHttp or spawnTls behind the proxy on Deno",
      );
    }
    const field = H2C_UNSUPPORTED.find((f) => explicit.has(f));
    if (field !== undefined) {
      throw new TakoError(
        "TAKO_ERR_UNSUPPORTED",
        `spawnH2c on Deno cannot honour "${field}": Deno.serve's HTTP/2 has fixed limits (200 streams, 16 KiB header list, no keep-alive PING, no connection hooks) and Deno's node:http2 is not stable enough to replace it; leave "${field}" unset on Deno (see the README coverage table)`,
      );
    }
    this.#h2cOnly = !options.http1;
    return this.#serve(router, config);
  }

  #serve(router: Dispatcher, config: ServerConfig): Serving {
    this.#router = router;
    this.#backoff = config.acceptBackoff;
    this.#attach();
    if (!config.keepAlive) this.#drain.closing = true;
    return {
      ready: Promise.resolve(),
      closed: this.#closed,
      drain: () => {
        this.#drain.closing = true;
        void this.#stop();
      },
      forceClose: () => {
        void this.#stop();
        this.#drain.force();
      },
    };
  }

  /** Deno's shutdown() refuses new connects, closes idle ones, and resolves after the last response. */
  #stop(): Promise<void> {
    this.#shutdown ??= this.#server.shutdown().catch(() => {});
    return this.#shutdown;
  }

  /**
   * HTTPS on Deno. A plain certificate (no resolver, no client certificates) with the defaults
   * runs on Deno.serve's own TLS (rustls: TLS 1.2+, forward-secret AEAD suites; ALPN h2 and
   * http/1.1), the fast path. SNI resolvers, reload, mTLS, `http2(false)` and the fields
   * Deno.serve cannot honour go to the socket path (node:tls), which offers only `http/1.1`:
   * Deno's node:http2 aborted the process under load over TLS too (measured).
   */
  serveTls(router: Dispatcher, config: ServerConfig, explicit: ReadonlySet<keyof ServerConfig>, tls: TlsOptions, serve: ServeOptions): Serving {
    const field = H2_FIELDS.find((f) => explicit.has(f));
    if (field !== undefined) {
      throw new TakoError(
        "TAKO_ERR_UNSUPPORTED",
        `spawnTls on Deno cannot honour "${field}": HTTP/2 over TLS is Deno.serve's, whose limits are fixed (200 streams, 16 KiB header list, no keep-alive PING); leave "${field}" unset on Deno (see the README coverage table)`,
      );
    }
    const { address, port } = this.#local;
    const plain = tls.cert.source.kind !== "resolver" && tls.cert.clientAuth === null;
    if (plain && tls.http2 && socketPathField(explicit, "deno") === null && !explicit.has("tlsHandshakeTimeout") && serve.proxyProtocol === "off") {
      const material = loadCert(tls.cert);
      return deferredServing(this.#stop().then(() => new DenoBoundSocket(address, port, { cert: material.certPem, key: material.keyPem }).#serve(router, config)));
    }
    return this.#socketPath((s) => s.serveTls(router, config, explicit, { ...tls, http2: false }, serve));
  }

  /** Moves this listener to Deno's node:net (the Node engine's socket path) on the same port. */
  #socketPath(start: (socket: NodeBoundSocket) => Serving): Serving {
    const { address, port } = this.#local;
    return deferredServing(this.#stop().then(() => bindNodeSocket(address, port, { emulated: true })).then(start));
  }

  close(): Promise<void> {
    this.#drain.force();
    return this.#stop();
  }
}

export const denoEngine: Engine = {
  runtime: "deno",
  async bind(host, port) {
    return new DenoBoundSocket(host, port);
  },
  onSignals(signals, handler) {
    const hooks = signals.map((signal) => {
      const hook = (): void => handler(signal);
      deno().addSignalListener(signal, hook);
      return [signal, hook] as const;
    });
    return () => {
      for (const [signal, hook] of hooks) deno().removeSignalListener(signal, hook);
    };
  },
};
