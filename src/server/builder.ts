import { resolveConfig, type ServerConfig } from "../core/config.ts";
import { TakoError } from "../core/errors.ts";
import type { TlsCert } from "../core/tls.ts";
import { checkTlsCert } from "../adapters/shared/tls-material.ts";
import { LoadMonitor } from "../adapters/shared/load.ts";
import { SheddingDispatcher } from "../core/router/shed.ts";
import { AltSvcDispatcher, checkAltSvc } from "../core/router/alt-svc.ts";
import type { Router } from "../core/router/router.ts";
import { ServerHandle } from "./handle.ts";
import type { H2cOptions, H3Serving, H3Spec, ProxyMode, ProxyOptions, ServeSpec, Serving, SocketAddr } from "../adapters/engine.ts";
import type { Dispatcher } from "../core/router/types.ts";
import { parseAddress } from "./tcp-listener.ts";
import { bindFailure } from "./listener.ts";
import { PairedServing } from "./paired.ts";
import { loadEngine } from "./select-engine.ts";
import type { Listener } from "./listener.ts";

/** Options of `spawnTls`. */
export interface TlsSpawnOptions {
  /**
   * Also serve HTTP/3 (QUIC) on the UDP port with the same number and address as the TCP
   * listener, and advertise it on every HTTP/1.1 and HTTP/2 response with
   * `Alt-Svc: h3=":PORT"; ma=86400` (or the builder's `altSvc(value)`). Default `false`.
   */
  readonly http3: boolean;
}

/** How long clients may remember an advertised HTTP/3 endpoint (`ma`, seconds): a day, as common servers send. */
const ALT_SVC_MAX_AGE = 86_400;

/** Fluent construction of a {@link Server}: `Server.builder().config({ … }).build()`. */
export class ServerBuilder {
  #partial: Partial<ServerConfig> = {};
  #notAnObject: { value: unknown } | null = null;
  #tls: TlsCert | null = null;
  #http2 = true;
  #proxy: ProxyMode = "off";
  #proxyBadCrc: "reject" | "flag" = "reject";
  #altSvc: string | null = null;

  /**
   * Advertises an alternative service (RFC 7838) on every response of `spawnHttp`, `spawnH2c`
   * and `spawnTls`: `Alt-Svc: value`, e.g. `'h3=":443"; ma=86400'` for an HTTP/3 endpoint served
   * elsewhere (another process, a proxy in front). With `spawnTls(…, { http3: true })` it replaces
   * the `h3=":PORT"; ma=86400` that option sends. `null` (default): none, or the option's own.
   */
  altSvc(value: string | null): this {
    this.#altSvc = value === null ? null : checkAltSvc(value);
    return this;
  }

  /**
   * The PROXY protocol (v1 and v2) on every transport: `"off"` (default); `"required"`: every
   * connection must open with a valid header, else it is closed; `"optional"`: a header is read
   * when the first bytes start one (for health checks that connect directly — then a client
   * that can reach the port directly can also claim any address: only behind a balancer you
   * control). The header is read before any HTTP or TLS byte, within `proxyReadTimeout`.
   * `onBadCrc`: a v2 header whose CRC32C TLV does not match closes the connection (`"reject"`,
   * default) or is served with `req.conn.proxy.crc32cVerified === false` (`"flag"`).
   */
  proxyProtocol(mode: ProxyMode, options: { readonly onBadCrc?: "reject" | "flag" } = {}): this {
    if (mode !== "off" && mode !== "required" && mode !== "optional") {
      throw new TakoError("TAKO_ERR_CONFIG", `proxyProtocol must be "off", "required" or "optional"; got ${JSON.stringify(mode)}`);
    }
    const onBadCrc = options.onBadCrc ?? "reject";
    if (onBadCrc !== "reject" && onBadCrc !== "flag") throw new TakoError("TAKO_ERR_CONFIG", `proxyProtocol onBadCrc must be "reject" or "flag"; got ${JSON.stringify(onBadCrc)}`);
    this.#proxy = mode;
    this.#proxyBadCrc = onBadCrc;
    return this;
  }

  /**
   * TLS material for `spawnTls`. Files are read and checked at `build()`: a missing file,
   * unparsable PEM/DER or a key that does not match its certificate throws there, naming the file.
   */
  tls(cert: TlsCert): this {
    this.#tls = cert;
    return this;
  }

  /** HTTP/2 over TLS (ALPN `h2`); default `true`. `false`: ALPN offers only `http/1.1`. */
  http2(enabled: boolean): this {
    if (typeof enabled !== "boolean") throw new TypeError("http2(enabled) expects true or false");
    this.#http2 = enabled;
    return this;
  }

  /** Merges `partial` over what was set before (and over the defaults at `build()`). */
  config(partial: Partial<ServerConfig>): this {
    if (typeof partial !== "object" || partial === null || Array.isArray(partial)) this.#notAnObject ??= { value: partial };
    else this.#partial = { ...this.#partial, ...partial };
    return this;
  }

  /**
   * Validates the configuration and returns the server; a bad value throws a `TakoError`
   * (`TAKO_ERR_CONFIG`) naming the field and the accepted range.
   */
  build(): Server {
    if (this.#notAnObject !== null) resolveConfig(this.#notAnObject.value as Partial<ServerConfig>);
    const config = resolveConfig(this.#partial);
    if (this.#tls !== null) checkTlsCert(this.#tls);
    return new Server(
      config,
      new Set(Object.keys(this.#partial) as (keyof ServerConfig)[]),
      this.#tls,
      this.#http2,
      { mode: this.#proxy, onBadCrc: this.#proxyBadCrc },
      this.#altSvc,
    );
  }
}

/**
 * A configured server. Spawn it on a bound listener: each `spawn*` returns a
 * {@link ServerHandle} to stop it.
 */
export class Server {
  /** The validated configuration, defaults filled in. */
  readonly config: ServerConfig;
  readonly #explicit: ReadonlySet<keyof ServerConfig>;
  readonly #tls: TlsCert | null;
  readonly #http2: boolean;
  readonly #proxy: ProxyOptions;
  readonly #altSvc: string | null;

  /** @internal Use `Server.builder()`. */
  constructor(
    config: ServerConfig,
    explicit: ReadonlySet<keyof ServerConfig>,
    tls: TlsCert | null = null,
    http2 = true,
    proxy: ProxyOptions = { mode: "off", onBadCrc: "reject" },
    altSvc: string | null = null,
  ) {
    this.config = config;
    this.#explicit = explicit;
    this.#tls = tls;
    this.#http2 = http2;
    this.#proxy = proxy;
    this.#altSvc = altSvc;
  }

  /** A builder with every default (see {@link ServerConfig}). */
  static builder(): ServerBuilder {
    return new ServerBuilder();
  }

  /**
   * Serves `router` over HTTP/1.1 on `listener` until the handle stops it. Every
   * {@link ServerConfig} field is enforced on every runtime; which runtime server carries it
   * (and the few settings that take Bun's or Deno's node:net path) is in the README coverage
   * table.
   */
  spawnHttp<S>(listener: Listener, router: Router<S>): ServerHandle {
    return this.#spawn(listener, { protocol: "http1", ...this.#base(router) });
  }

  /**
   * Serves `router` over HTTP/2 cleartext with prior knowledge (no Upgrade, no ALPN) on
   * `listener`: what proxies and service meshes speak to a backend. The H2 fields of
   * {@link ServerConfig} are advertised and enforced; the drain sends GOAWAY. With
   * `{ http1: true }` the port also serves HTTP/1.1, chosen per connection from the client's
   * first bytes. Expose h2c only behind a proxy you control: it has no TLS.
   */
  spawnH2c<S>(listener: Listener, router: Router<S>, options: Partial<H2cOptions> = {}): ServerHandle {
    return this.#spawn(listener, { protocol: "h2c", http1: options.http1 === true, ...this.#base(router) });
  }

  /**
   * Serves `router` over TLS on `listener`: ALPN offers `h2` and `http/1.1` (the client picks;
   * no ALPN means HTTP/1.1), or only `http/1.1` after `.http2(false)`. TLS 1.2 and 1.3 with
   * forward-secret AEAD suites only; `tlsHandshakeTimeout` bounds each handshake. Needs
   * material from `Server.builder().tls(cert)`; without it this throws at once.
   *
   * With `{ http3: true }` the same router is also served over HTTP/3 on the UDP port of the
   * same address and number (as {@link spawnH3} would), every HTTP/1.1 and HTTP/2 response
   * carries `Alt-Svc: h3=":PORT"; ma=86400`, and the one handle drains both. The UDP side starts
   * a moment later: `handle.ready()` resolves once both serve, and rejects when HTTP/3 cannot
   * start (the UDP port taken, a field or certificate form the runtime's HTTP/3 engine refuses);
   * then the TCP side is closed at once rather than left serving alone.
   */
  spawnTls<S>(listener: Listener, router: Router<S>, options: Partial<TlsSpawnOptions> = {}): ServerHandle {
    if (this.#tls === null) {
      throw new TakoError("TAKO_ERR_TLS", 'spawnTls needs TLS material: Server.builder().tls(TlsCert.pemPaths("cert.pem", "key.pem")).build()');
    }
    const http3 = options.http3 ?? false;
    if (typeof http3 !== "boolean") throw new TypeError("spawnTls option http3 expects true or false");
    if (http3) {
      if (listener.localAddr().family === "unix")
        throw new TakoError("TAKO_ERR_UNSUPPORTED", "spawnTls with { http3: true } needs a TCP listener: HTTP/3 is served on the UDP port of the same number");
      if (this.#proxy.mode !== "off")
        throw new TakoError("TAKO_ERR_UNSUPPORTED", "spawnTls with { http3: true } cannot read the PROXY protocol on its HTTP/3 side: build it without proxyProtocol()");
    }
    return this.#spawn(listener, { protocol: "tls", tls: { cert: this.#tls, http2: this.#http2 }, ...this.#base(router) }, http3);
  }

  /**
   * Serves `router` over HTTP/3 (QUIC) on the UDP address `address` (`"host:port"`,
   * `"[v6]:port"`, port 0 for a free one), which this call binds: no runtime hands a bound UDP
   * socket to its QUIC stack, so there is no listener to pass. TLS is part of QUIC: it needs
   * material from `Server.builder().tls(cert)`. The `h3*` fields of {@link ServerConfig} set the
   * QUIC limits; the drain sends GOAWAY and gives in-flight streams
   * `min(h3GoawayGrace, drainTimeout)`. Which engine serves it on each runtime, and which
   * fields it honours, is in the README coverage table.
   *
   * Rejects with a `TakoError`: `TAKO_ERR_TLS` without material, `TAKO_ERR_ADDRESS` for a
   * malformed address, `TAKO_ERR_UNSUPPORTED` on a runtime without an HTTP/3 engine, for a field
   * set explicitly that its engine cannot honour (naming field and runtime), and for the PROXY
   * protocol (it has no meaning over QUIC here).
   */
  async spawnH3<S>(address: string, router: Router<S>): Promise<ServerHandle> {
    if (this.#tls === null) {
      throw new TakoError("TAKO_ERR_TLS", 'spawnH3 needs TLS material (QUIC always encrypts): Server.builder().tls(TlsCert.pemPaths("cert.pem", "key.pem")).build()');
    }
    if (this.#proxy.mode !== "off") throw new TakoError("TAKO_ERR_UNSUPPORTED", "spawnH3 does not read the PROXY protocol: build the HTTP/3 server without proxyProtocol()");
    const { host, port } = parseAddress(address);
    const engine = await loadEngine();
    const load = LoadMonitor.of(this.config, engine.runtime);
    const base = this.#base(router);
    let serving: H3Serving;
    try {
      serving = await serveH3On(engine.serveH3.bind(engine), { ...base, router: load === null ? base.router : new SheddingDispatcher(router, load), host, port, tls: this.#tls });
    } catch (error) {
      load?.stop();
      throw error;
    }
    return this.#handle(serving, serving, router, load);
  }

  /** What every spec carries. */
  #base(router: Dispatcher): Omit<ServeSpec, "protocol"> {
    return { router, config: this.config, explicit: this.#explicit, proxy: this.#proxy };
  }

  /**
   * Hands `spec` to the listener's engine; the handle drives what it serves. `http3` (TLS only):
   * the engine also serves HTTP/3 on the listener's address over UDP, under the same handle.
   */
  #spawn(listener: Listener, spec: ServeSpec, http3 = false): ServerHandle {
    const router = spec.router;
    const engine = listener.engine();
    const load = LoadMonitor.of(this.config, engine.runtime);
    const shed = load === null ? router : new SheddingDispatcher(router, load);
    const socket = listener.take();
    const local = socket.localAddr();
    const altSvc = this.#altSvc ?? (http3 ? `h3=":${local.port}"; ma=${ALT_SVC_MAX_AGE}` : null);
    let serving: Serving;
    try {
      serving = socket.serve({ ...spec, router: altSvc === null ? shed : new AltSvcDispatcher(shed, altSvc) });
    } catch (error) {
      load?.stop();
      throw error;
    }
    if (http3 && spec.protocol === "tls") {
      const h3 = serveH3On(engine.serveH3.bind(engine), { ...this.#base(router), router: shed, host: local.address, port: local.port, tls: spec.tls.cert });
      serving = new PairedServing(serving, h3);
    }
    return this.#handle(serving, socket, router, load);
  }

  /** The handle over `serving`; the load monitor stops with it. */
  #handle(serving: Serving, socket: { localAddr(): SocketAddr }, router: Dispatcher, load: LoadMonitor | null): ServerHandle {
    if (load !== null) {
      const stop = (): void => load.stop();
      serving.closed.then(stop, stop);
    }
    return new ServerHandle(serving, socket, this.config.drainTimeout, this.config.shutdownDelay, () => router.serverDraining?.());
  }
}

/** `serveH3(spec)`, a failed UDP bind (a runtime error) reported as `TAKO_ERR_LISTEN` naming the address. */
async function serveH3On(serveH3: (spec: H3Spec) => Promise<H3Serving>, spec: H3Spec): Promise<H3Serving> {
  try {
    return await serveH3(spec);
  } catch (error) {
    if (error instanceof TakoError) throw error;
    const where = spec.host.includes(":") ? `[${spec.host}]:${spec.port}` : `${spec.host}:${spec.port}`;
    throw new TakoError("TAKO_ERR_LISTEN", `cannot serve HTTP/3 on UDP ${where}: ${bindFailure(error)}`, { cause: error });
  }
}
