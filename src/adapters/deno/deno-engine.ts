import type { Socket } from "node:net";
import { SocketConnInfo, type ConnInfo, type TlsInfo } from "../../core/conn-info.ts";
import { DEFAULT_SERVER_CONFIG, type ServerConfig } from "../../core/config.ts";
import { FetchRequest } from "../../core/fetch-request.ts";
import { TakoError } from "../../core/errors.ts";
import { absoluteFormProblem, HEAD_PROBLEMS, isChunkedOnly, isValidHost, refuseHead } from "../../core/request-rules.ts";
import { parseJson } from "../../core/request.ts";
import { errorReply } from "../../core/responder.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import type { Engine, EngineListener, ServeSpec, Serving, SocketAddr } from "../engine.ts";
import { Backoff } from "../shared/backoff.ts";
import { FetchDrain, netPathField } from "../shared/fetch-drain.ts";
import { Lifecycle } from "../shared/lifecycle.ts";
import { loadCert } from "../shared/tls-material.ts";
import { moveToNetPath } from "../node/node-engine.ts";

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
  /**
   * Deno.serve's HTTP/2 sometimes ends the body of a stream the client reset (RST_STREAM) as if
   * it were complete (measured: the handler read 50,000 of 100,000 declared bytes, no error).
   * So HTTP/2 text and JSON bodies are read as bytes, which `readBody` checks against their
   * declared length, and decoded here. HTTP/1.1 bodies keep Deno's own readers (a reset fails them).
   */
  protected override readText(limit: number): Promise<string> {
    return isHttp1(this.raw) ? super.readText(limit) : this.readBody(limit).then(utf8);
  }

  protected override readJson(limit: number): Promise<unknown> {
    return isHttp1(this.raw) ? super.readJson(limit) : this.readText(limit).then(parseJson);
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

const decoder = new TextDecoder();
const utf8 = (bytes: Uint8Array): string => decoder.decode(bytes);

/**
 * What Deno.serve tells about a TLS connection: nothing. HTTP/2 over TLS implies ALPN `h2`; an
 * HTTP/1.1 request is reported as `http/1.1` (also when the client sent no ALPN). SNI name,
 * version and cipher are unknown (`null`) on this path; the node:net path has them all.
 */
const NATIVE_TLS_H2: TlsInfo = Object.freeze({ alpnProtocol: "h2", serverName: null, protocol: null, cipher: null, peerCertificate: null });
const NATIVE_TLS_H1: TlsInfo = Object.freeze({ alpnProtocol: "http/1.1", serverName: null, protocol: null, cipher: null, peerCertificate: null });

/** HTTP/2 fields Deno.serve cannot honour. */
const H2_FIELDS: readonly (keyof ServerConfig)[] = ["h2MaxConcurrentStreams", "h2MaxHeaderListSize", "h2MaxSendBufSize", "h2MaxPendingAcceptResetStreams", "h2KeepAliveInterval"];

/** Fields spawnH2c cannot honour on Deno.serve. */
const H2C_UNSUPPORTED: readonly (keyof ServerConfig)[] = [...H2_FIELDS, "headerReadTimeout", "keepAliveTimeout", "maxConnections", "keepAlive"];

const HTTP1_REFUSED = (): Response =>
  new Response("HTTP Version Not Supported: this port speaks HTTP/2 with prior knowledge (h2c)", {
    status: 505,
    headers: { "content-type": "text/plain; charset=utf-8", connection: "close" },
  });

/**
 * What Deno.serve lets through and HTTP/1.1 forbids (measured, Deno 2.9.6): a Host that is not
 * host[:port]. Deno builds the request URL by pasting Host before the path, so `Host: a/admin`
 * with `GET /x` reached the router as `/admin/x`; `a b`, `a@b`, `a?b` passed too. And an
 * absolute-form target: the URL is the target as sent (`https://u@evil.example/x` on a
 * cleartext port), with the Host header left as it was, so the target's scheme and authority
 * are checked here (core/request-rules.ts). And a transfer coding before chunked other than
 * `identity`: `gzip, chunked` reached the handler with the body still gzip-encoded. Duplicate
 * Host, DEL in a value and `identity, chunked` Deno refuses itself. The refusal, or `null`.
 *
 * The per-request cost: the Host and Transfer-Encoding headers (two `get`s; Deno builds the
 * headers on first use), the Host compared with the last valid one, the URL (which `req.target`
 * reads anyway) and up to three `startsWith` to see that its authority is that Host
 * (origin-form). A request without Host is HTTP/2 here (the authority is in `:authority`) or an
 * HTTP/1.1 request Deno accepts without one (a known gap).
 */
function refusedHead(request: Request): Response | null {
  const host = request.headers.get("host");
  if (host === null) return null;
  if (!isValidHost(host)) return errorReply(refuseHead(400, HEAD_PROBLEMS.invalidHost)).intoResponse();
  const te = request.headers.get("transfer-encoding");
  if (te !== null && !isChunkedOnly(te)) return errorReply(refuseHead(400, HEAD_PROBLEMS.transferEncoding)).intoResponse();
  const url = request.url;
  // Origin-form: Deno built the URL as `http://` or `https://`, then Host, then the path.
  const at = url.startsWith("http://") ? 7 : url.startsWith("https://") ? 8 : 0;
  const end = at + host.length;
  if (at !== 0 && url.startsWith(host, at) && (end === url.length || url.charCodeAt(end) === 47)) return null;
  if (!url.includes("://")) return null; // `*` (OPTIONS) or authority-form (CONNECT)
  const problem = absoluteFormProblem(url);
  return problem === null ? null : errorReply(refuseHead(400, problem)).intoResponse();
}

const SERVER_ERROR = (): Response => new Response("Internal Server Error", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });

const deno = (): DenoApi => (globalThis as unknown as { Deno: DenoApi }).Deno;

/** PEM material for a native TLS server. */
interface Pem {
  readonly cert: string;
  readonly key: string;
}

/**
 * Deno engine. `Deno.serve` binds and listens in one step, so it starts at bind time with a
 * handler that waits until a router is attached. A spec that needs what Deno.serve lacks moves
 * to Deno's node:net (the Node engine's transports) on the same port; a plain certificate moves
 * to a TLS Deno.serve on the same port.
 */
class DenoListener implements EngineListener {
  #server: DenoHttpServer;
  /** A server stopped to make way for another on the same port: its end is not the listener's. */
  #retired: DenoHttpServer | null = null;
  readonly #local: SocketAddr;
  readonly #drain = new FetchDrain(true);
  readonly #lifecycle = new Lifecycle<Socket>();
  #router: Dispatcher | null = null;
  /** spawnH2c without `http1`: HTTP/1.1 requests are refused (Deno.serve answers both). */
  #h2cOnly = false;
  readonly #attached: Promise<void>;
  #attach!: () => void;
  #shutdown: Promise<void> | null = null;
  #backoff = new Backoff(DEFAULT_SERVER_CONFIG.acceptBackoff);
  /** The listener moved to Deno's node:net. */
  #moved = false;
  /** PEM for a native TLS server (`serveTls` with a plain certificate); `null`: cleartext. */
  #pem: Pem | null = null;

  constructor(host: string, port: number) {
    this.#attached = new Promise((resolve) => (this.#attach = resolve));
    this.#server = this.#listen(host, port);
    const addr = this.#server.addr;
    this.#local = { address: addr.hostname, port: addr.port, family: addr.hostname.includes(":") ? "IPv6" : "IPv4" };
  }

  #listen(hostname: string, port: number): DenoHttpServer {
    const pem = this.#pem;
    const server = deno().serve({
      hostname,
      port,
      ...(pem === null ? {} : { cert: pem.cert, key: pem.key }),
      onListen: () => {},
      onError: SERVER_ERROR,
      handler: (request, info) => {
        this.#backoff.reset();
        const router = this.#router;
        if (router === null) return this.#attached.then(() => this.#dispatch(this.#router!, request, info));
        return this.#dispatch(router, request, info);
      },
    });
    server.finished.then(
      () => this.#finished(server),
      (error: unknown) => (server === this.#retired ? undefined : this.#recover(error)),
    );
    return server;
  }

  #finished(server: DenoHttpServer): void {
    if (server !== this.#retired) this.#lifecycle.listenerClosed();
  }

  /**
   * Deno.serve's accept loop ends with an error when accept fails (EMFILE: measured). Unless the
   * server is stopping, listen again on the same port after the backoff delay.
   */
  #recover(error: unknown): void {
    if (this.#shutdown !== null) return this.#lifecycle.listenerClosed();
    const delay = this.#backoff.next();
    console.error(`tako: Deno.serve stopped accepting (${error instanceof Error ? error.message : String(error)}); listening again in ${delay} ms`);
    setTimeout(() => {
      if (this.#shutdown !== null) return this.#lifecycle.listenerClosed();
      try {
        this.#server = this.#listen(this.#local.address, this.#local.port);
      } catch (again) {
        this.#recover(again);
      }
    }, delay);
  }

  #dispatch(router: Dispatcher, request: Request, info: DenoServeInfo): Response | Promise<Response> {
    if (this.#h2cOnly && isHttp1(request)) return HTTP1_REFUSED();
    const refused = refusedHead(request);
    if (refused !== null) return refused;
    // Deno.serve cannot destroy a connection: the drain deadline answers pending handlers instead.
    return router.handleFetch(new DenoRequest(request, info, this.#local, this.#pem !== null), this.#drain);
  }

  localAddr(): SocketAddr {
    return this.#local;
  }

  /**
   * Decides the path for the whole spec: Deno.serve where it honours the spec, Deno's node:net
   * where only the raw socket can (PROXY, connection hooks, SNI resolvers, mTLS), and
   * `TAKO_ERR_UNSUPPORTED` where neither can. Deno's node:http2 could take tako's HTTP/2
   * transport, but it aborted the process under ordinary load, over TLS too (an nghttp2
   * assertion, `free(): invalid pointer`; measured), so HTTP/2 is always Deno.serve's and the
   * fields only tako's HTTP/2 transport honours are refused.
   */
  serve(spec: ServeSpec): Serving {
    const { explicit, proxy } = spec;
    switch (spec.protocol) {
      case "http1":
        if (proxy.mode !== "off" || netPathField(explicit, "deno") !== null) return this.#moveToNetPath(spec);
        return this.#serveNative(spec);
      case "h2c": {
        if (proxy.mode !== "off") {
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
        this.#h2cOnly = !spec.http1;
        return this.#serveNative(spec);
      }
      case "tls": {
        const field = H2_FIELDS.find((f) => explicit.has(f));
        if (field !== undefined) {
          throw new TakoError(
            "TAKO_ERR_UNSUPPORTED",
            `spawnTls on Deno cannot honour "${field}": HTTP/2 over TLS is Deno.serve's, whose limits are fixed (200 streams, 16 KiB header list, no keep-alive PING); leave "${field}" unset on Deno (see the README coverage table)`,
          );
        }
        // A plain certificate with the defaults: Deno.serve's own TLS (rustls: TLS 1.2+,
        // forward-secret AEAD suites; ALPN h2 and http/1.1). Everything else: node:tls with
        // http/1.1 only.
        const { cert, http2 } = spec.tls;
        const plain = cert.source.kind !== "resolver" && cert.clientAuth === null;
        if (plain && http2 && netPathField(explicit, "deno") === null && !explicit.has("tlsHandshakeTimeout") && proxy.mode === "off") {
          const material = loadCert(cert);
          return this.#moveToNativeTls({ cert: material.certPem, key: material.keyPem }, spec);
        }
        return this.#moveToNetPath({ ...spec, tls: { cert, http2: false } });
      }
    }
  }

  #serveNative(spec: ServeSpec): Serving {
    this.#router = spec.router;
    this.#backoff = new Backoff(spec.config.acceptBackoff);
    this.#attach();
    if (!spec.config.keepAlive) this.#drain.closing = true;
    this.#lifecycle.start({
      stopAccepting: () => void this.#stop(),
      drainConnections: () => {
        this.#drain.closing = true;
      },
      destroyConnections: () => this.#drain.force(),
    });
    return this.#lifecycle;
  }

  /** Deno's shutdown() refuses new connects, closes idle ones, and resolves after the last response. */
  #stop(): Promise<void> {
    this.#shutdown ??= this.#server.shutdown().catch(() => {});
    return this.#shutdown;
  }

  /** Stops the cleartext Deno.serve without ending the listener, to serve the port another way. */
  #retire(): Promise<void> {
    this.#retired = this.#server;
    return this.#stop().then(() => {
      this.#shutdown = null;
    });
  }

  /** Moves this listener to a TLS Deno.serve on the same port; the kernel replays what was asked meanwhile. */
  #moveToNativeTls(pem: Pem, spec: ServeSpec): Serving {
    const lifecycle = this.#lifecycle;
    this.#retire()
      .then(() => {
        this.#pem = pem;
        this.#server = this.#listen(this.#local.address, this.#local.port);
        this.#serveNative(spec);
      })
      .catch((error: unknown) => lifecycle.fail(error));
    return lifecycle;
  }

  /** Moves this listener to Deno's node:net on the same port; the kernel replays what was asked meanwhile. */
  #moveToNetPath(spec: ServeSpec): Serving {
    this.#moved = true;
    return moveToNetPath(this.#retire(), this.#local, this.#lifecycle, spec);
  }

  close(): Promise<void> {
    if (this.#moved) {
      this.#lifecycle.forceClose();
      return this.#lifecycle.closed;
    }
    this.#drain.force();
    return this.#stop();
  }
}

export const denoEngine: Engine = {
  runtime: "deno",
  async bind(host, port) {
    return new DenoListener(host, port);
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
