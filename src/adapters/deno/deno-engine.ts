import { unlinkSync } from "node:fs";
import type { Socket } from "node:net";
import { type ConnInfo, SocketConnInfo, type TlsInfo } from "../../core/conn-info.ts";
import { type BodyDeadline, bodyDeadline } from "../../core/body.ts";
import type { ServerConfig } from "../../core/config.ts";
import { TakoError } from "../../core/errors.ts";
import { NativeSignalRequest, WatchedRequests } from "../shared/native-signal.ts";
import { H2_NO_ERROR, h2Refusal } from "../../core/h2.ts";
import type { ProxyHeader } from "../../core/proxy-protocol/index.ts";
import { absoluteFormProblem, HEAD_PROBLEMS, isChunkedOnly, isValidHost, refuseHead } from "../../core/request-rules.ts";
import { parseJson } from "../../core/request.ts";
import { errorReply } from "../../core/responder.ts";
import type { AnyRequest, Dispatcher, FetchObserver } from "../../core/router/types.ts";
import type { BindTarget, Engine, EngineListener, ServeSpec, Serving, SocketAddr } from "../engine.ts";
import { BUSY_HTTP1 } from "../node/acceptor.ts";
import { ListeningHttp1, serveNodeHttp } from "../node/listening-http1.ts";
import { serveH3WithAddon } from "../node/h3.ts";
import { bindNodeListener, moveToNetPath } from "../node/node-engine.ts";
import { proxiedHeader, proxiedHeaders } from "../shared/proxied-headers.ts";
import { Backoff } from "../shared/backoff.ts";
import { type Http1Deadlines, http1Deadlines } from "../shared/deadline.ts";
import { connectionCap } from "../shared/descriptors.ts";
import { RateSample } from "../shared/rate.ts";
import { connectionRefused, h2Goaway, type Peer, publishConnection, publishGoaway, requestStart, traceFetch } from "../shared/diagnostics.ts";
import { Lifecycle } from "../shared/lifecycle.ts";
import { loadCert } from "../shared/tls-material.ts";
import { applyMode, displayPath } from "../shared/socket-file.ts";
import { H2Conn } from "../wire/h2-conn.ts";
import { H2Policy } from "./h2-policy.ts";
import { DenoH2Socket } from "./h2-socket.ts";
import { readProxyHeader, readProxyOpening } from "./proxy-read.ts";
import {
  type DenoConn,
  type DenoNetAddr,
  type DenoConnServer,
  type DenoListener as NativeListener,
  type DenoServeInfo,
  deno,
  type ServeOnConnection,
  serveOnConnection,
} from "./deno-api.ts";

/**
 * One accepted connection and its policy state: the lifecycle kernel's tracked connection. On
 * tako's HTTP/2 codec ({@link wire}) the codec's connection keeps its own deadlines. Otherwise
 * Deno's HTTP server (`serveHttpOnConnection`) parses and answers; tako counts the requests in flight (handler called → response handed
 * over) and keeps one deadline per phase (PROXY header, first head, idle between requests),
 * checked by the listener's sweep: arming a timer per request cost a third of the throughput
 * (measured: Deno's setTimeout is Node's compat timer).
 */
class Connection {
  readonly conn: DenoConn;
  /** Aborting it closes the connection at once (Deno's non-graceful cancel). */
  readonly abort = new AbortController();
  /** When the current phase began (ms since epoch). */
  since = 0;
  /** How long the current phase may last with no request in flight (`null`: no limit). */
  limit: number | null = null;
  server: DenoConnServer | null = null;
  /** Requests whose handler was called and whose response was not handed over yet. */
  inflight = 0;
  /** Close once no request is in flight: a response carried `Connection: close`, or a drain. */
  closeAfter = false;
  /** The connection is closed or being closed. */
  gone = false;
  /** TLS: the protocol ALPN chose (`null`: none); `undefined`: cleartext. */
  alpn: string | null | undefined = undefined;
  /** Settles a request: bound once per connection. */
  readonly done: () => void;

  /** The server's body deadline (`bodyReadTimeout`, `bodyMinRate`). */
  readonly bodyDeadline: BodyDeadline | null;

  constructor(conn: DenoConn, onIdle: (c: Connection) => void, body: BodyDeadline | null) {
    this.conn = conn;
    this.bodyDeadline = body;
    this.done = () => {
      if (--this.inflight === 0) onIdle(this);
    };
  }

  /** Deno's server for it was shut down gracefully: it can no longer be cancelled (its resource is gone). */
  shut = false;
  /** Deno's server for it has finished. */
  ended = false;
  /** An HTTP/2 request was seen on it. */
  h2 = false;
  /** The PROXY header the connection opened with (required mode), or `null`. */
  proxy: ProxyHeader | null = null;
  /** A body read chunk by chunk is waiting for its next chunk. */
  bodyWaiting = false;
  /** Body bytes received on this connection (chunked reads). */
  bodyBytes = 0;
  /** The body-rate sample, made the first time the cap asks. */
  rate: RateSample | null = null;
  /** The last request (its head decides how a closing connection ends). */
  last: Request | null = null;
  /** HTTP/2 on tako's codec (h2c-only ports, ALPN `h2`): its socket; `null` on Deno's server. */
  wire: DenoH2Socket | null = null;

  /**
   * Closes now (a deadline with no request in flight, shedding, the drain deadline). A
   * connection already shut down gracefully cannot be cancelled: Deno's cancel would throw from
   * inside the abort event (an uncaught error); its pending responses are answered instead.
   */
  kill(): void {
    this.limit = null;
    if (this.wire !== null) this.wire.destroy();
    else if (this.server === null) {
      if (!this.gone) closeConn(this.conn);
    } else if (!this.shut && !this.ended && !this.abort.signal.aborted) {
      this.abort.abort();
    }
    this.gone = true;
  }

  /** Graceful: HTTP/1.1 closes after the response in flight (at once when idle); HTTP/2 sends GOAWAY and waits for its streams. */
  close(): void {
    this.limit = null;
    if (this.wire !== null) return this.wire.h2!.goaway("drain");
    if (this.server === null) return this.kill();
    if (this.shut || this.ended || this.abort.signal.aborted) return;
    this.shut = true;
    this.server.shutdown().catch(ignore);
  }
}

const ignore = (): void => {};

/** The peer of a Deno connection, for the diagnostics channels (a Unix socket's client is unnamed: `""`, as in `req.conn`). */
function peerOf(conn: DenoConn): Peer {
  const addr = conn.remoteAddr;
  return addr.transport === "unix" ? { remoteAddress: addr.path ?? "", remotePort: 0 } : { remoteAddress: addr.hostname, remotePort: addr.port };
}

/**
 * Closes a connection Deno has not been given yet. A TLS connection whose handshake stalls
 * stays open after `close()` alone (measured: the peer saw no FIN within 5 s); `closeWrite()`
 * first ends it (FIN within milliseconds).
 */
function closeConn(conn: DenoConn): void {
  conn.closeWrite().catch(ignore);
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/** What a listener's requests share: the handler timeout, and what `req.signal` watches. */
/**
 * A request on Deno's server. Deno aborts the Fetch request's signal as soon as the client is
 * gone (HTTP/1.1 connection closed, HTTP/2 stream reset; measured within milliseconds), and also,
 * by default, after a successful response ("legacy abort", which Deno announces once on stderr
 * when a read signal gets it). That second abort comes after the response is complete (a whole
 * body handed to Deno, or a tracked stream sent to its end), which tako knows (`finished()`): it
 * is ignored. The drain deadline aborts the watched requests itself (`WatchedRequests.force`).
 */
class DenoRequest extends NativeSignalRequest {
  readonly connection: Connection;
  readonly info: DenoServeInfo;
  readonly #local: SocketAddr;
  readonly #http1: boolean;
  constructor(native: Request, connection: Connection, info: DenoServeInfo, local: SocketAddr, http1: boolean, served: WatchedRequests) {
    super(native, served);
    this.connection = connection;
    this.info = info;
    this.#local = local;
    this.#http1 = http1;
  }

  #traced: ((status: number, complete: boolean) => void) | null = null;

  /**
   * Traced: reported once Deno has sent the response (`info.completed`), or failed to. A client
   * gone before the response was handed over (Deno aborts the request's signal, which is watched
   * from the start: read late, it is not aborted) is reported at once: left, status 0.
   */
  override watchResponse(done: (status: number, complete: boolean) => void): void {
    this.#traced = done;
    const native = this.raw.signal;
    native.addEventListener(
      "abort",
      () => {
        if (!this.isFinished) done(0, false);
      },
      { once: true },
    );
  }

  /** The observer has the response: a traced request learns when it is sent. */
  responding(status: number): void {
    const done = this.#traced;
    if (done === null) return;
    this.info.completed.then(
      () => done(status, true),
      () => done(status, false),
    );
  }

  get http1(): boolean {
    return this.#http1;
  }

  #proxied: Headers | null = null;

  /** On a proxied connection `Forwarded` comes from the PROXY header and `X-Forwarded-*` are dropped. */
  override get headers(): Headers {
    const proxy = this.connection.proxy;
    if (proxy === null) return super.headers;
    return (this.#proxied ??= proxiedHeaders(new Headers(super.headers), proxy));
  }

  override header(name: string): string | null {
    const proxy = this.connection.proxy;
    if (proxy !== null) {
      const own = proxiedHeader(name.toLowerCase(), proxy);
      if (own !== undefined) return own;
    }
    return super.header(name);
  }

  /**
   * Deno's HTTP/2 sometimes ends the body of a stream the client reset (RST_STREAM) as if it
   * were complete (measured: the handler read 50,000 of 100,000 declared bytes, no error). So
   * HTTP/2 text and JSON bodies are read as bytes, which `readBody` checks against their
   * declared length, and decoded here. HTTP/1.1 bodies keep Deno's own readers (a reset fails them).
   */
  protected override readText(limit: number): Promise<string> {
    return this.#http1 ? super.readText(limit) : this.readBody(limit).then(utf8);
  }

  protected override readJson(limit: number): Promise<unknown> {
    return this.#http1 ? super.readJson(limit) : this.readText(limit).then(parseJson);
  }

  /** The body counted per connection, so that a stalled upload can be shed at the cap. */
  protected override bodySource(): AsyncIterable<Uint8Array> | null {
    const source = super.bodySource();
    return source === null ? null : counted(source, this.connection);
  }

  /**
   * HTTP/1.1 and HTTP/2. A body past the native-read credit is read chunk by chunk; Deno may end
   * the body of a reset HTTP/2 stream early as if complete, which the declared-length check in
   * `FetchRequest.readBody` turns into the 400 it is.
   */
  protected override bodyDeadline(): BodyDeadline | null {
    return this.connection.bodyDeadline;
  }

  protected override makeConn(): ConnInfo {
    return connInfoOf(this.connection, this.#local, this.#http1 ? "1.1" : "2.0");
  }
}

/** `req.conn` on `c`: the peer (the PROXY header's client when there is one), the local address, ALPN over TLS. */
function connInfoOf(c: Connection, local: SocketAddr, version: "1.1" | "2.0"): ConnInfo {
  const peer = c.conn.remoteAddr;
  const tls: TlsInfo | null = c.alpn === undefined ? null : Object.freeze({ alpnProtocol: c.alpn, serverName: null, protocol: null, cipher: null, peerCertificate: null });
  const proxy = c.proxy;
  const client = proxy !== null && proxy.command === "PROXY" && proxy.sourceAddress !== null && proxy.family !== "UNIX";
  if (peer.transport === "unix") {
    return new SocketConnInfo(client ? proxy.sourceAddress! : "", client ? (proxy.sourcePort ?? 0) : 0, local.address, 0, version, tls, proxy, "unix");
  }
  return new SocketConnInfo(client ? proxy.sourceAddress! : peer.hostname, client ? (proxy.sourcePort ?? 0) : peer.port, local.address, local.port, version, tls, proxy);
}

/** `source`, noting on `c` while it waits for a chunk and how many bytes came. */
async function* counted(source: AsyncIterable<Uint8Array>, c: Connection): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      c.bodyWaiting = true;
      const next = await it.next();
      c.bodyWaiting = false;
      if (next.done === true) return;
      c.bodyBytes += next.value.byteLength;
      yield next.value;
    }
  } finally {
    c.bodyWaiting = false;
    await it.return?.();
  }
}

/**
 * True when `c`'s one request is waiting for a body arriving slower than `minRate` bytes/s,
 * sampled between two calls at least a second apart (asked only at the cap, oldest first): a
 * stalled upload, shed like an idle connection. A body the handler is not reading is never the
 * client's fault.
 */
function stalledUpload(c: Connection, minRate: number): boolean {
  if (c.inflight !== 1 || !c.bodyWaiting) return false;
  return (c.rate ??= new RateSample()).below(c.bodyBytes, minRate);
}

/**
 * Deno's server does not say which protocol a request came over. Over TLS, ALPN does; on a
 * cleartext port its HTTP/2 requests carry no `Host` header (the authority is in the URL only)
 * while HTTP/1.1 requires one (RFC 9112 §3.2). An HTTP/1.1 request without `Host`, which Deno
 * accepts, is taken for HTTP/2.
 */
function isHttp1(request: Request, c: Connection): boolean {
  return c.alpn === undefined ? request.headers.has("host") : c.alpn !== "h2";
}

const decoder = new TextDecoder();
const utf8 = (bytes: Uint8Array): string => decoder.decode(bytes);

/** HTTP/2 fields Deno's own HTTP/2 (hyper, fixed settings; `spawnH2c(…, { http1: true })`) cannot honour. */
const H2_FIELDS: readonly (keyof ServerConfig)[] = ["h2MaxConcurrentStreams", "h2MaxHeaderListSize", "h2MaxSendBufSize", "h2MaxPendingAcceptResetStreams", "h2KeepAliveInterval"];

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
  // Origin-form: Deno built the URL as `http://` or `https://` (`http+unix://` for HTTP/1.1 on
  // a Unix socket), then Host, then the path.
  const at = url.startsWith("http://") ? 7 : url.startsWith("https://") ? 8 : url.startsWith("http+unix://") ? 12 : 0;
  const end = at + host.length;
  if (at !== 0 && url.startsWith(host, at) && (end === url.length || url.charCodeAt(end) === 47)) return null;
  if (!url.includes("://")) return null; // `*` (OPTIONS) or authority-form (CONNECT)
  const problem = absoluteFormProblem(url);
  return problem === null ? null : errorReply(refuseHead(400, problem)).intoResponse();
}

const UNAVAILABLE = (): Response =>
  new Response("Service Unavailable: server is shutting down", { status: 503, headers: { connection: "close", "content-type": "text/plain; charset=utf-8" } });

const SERVER_ERROR = (): Response => new Response("Internal Server Error", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });

const encoder = new TextEncoder();
/** Sent to a connection over the cap before it is closed (HTTP/1.1, or h2c with HTTP/1.1 on the port). */
const BUSY_H1_BYTES = encoder.encode(BUSY_HTTP1);
/** Sent to an h2c-only connection over the cap: SETTINGS, then GOAWAY(0, NO_ERROR) with the reason. */
const BUSY_H2_BYTES = h2Refusal(H2_NO_ERROR, "server at connection limit");

/**
 * Sees every response: adds `Connection: close` while keep-alive is off or a drain runs, and
 * marks an HTTP/1.1 connection whose response says `Connection: close` (the handler's, or a
 * 408 for a late body) to be closed once it is sent (Deno's server would keep it open).
 */
class CloseObserver implements FetchObserver {
  closing = false;
  readonly quietStreamErrors = true;
  /** Responses still being produced: answered 503 at the drain deadline where a connection cannot be cancelled. */
  readonly pending = new Set<(response: Response) => void>();

  /** The drain deadline: every pending response is answered 503 now. */
  force(): void {
    this.closing = true;
    for (const resolve of this.pending) resolve(UNAVAILABLE());
    this.pending.clear();
  }

  /** A tracked streamed body reached its end. */
  readonly ended = (req: AnyRequest): void => (req as DenoRequest).finished();

  readonly finish = (response: Response, req: AnyRequest, streamed: boolean, tracked: boolean): Response => {
    const r = req as DenoRequest;
    // Complete once handed over, but for a body tako sees to its end (`ended`). A Fetch
    // `Response` the handler built counts as complete here (its stream, if any, is still
    // cancelled by Deno when the client leaves).
    if (!tracked) r.finished();
    r.responding(response.status);
    const c = r.connection;
    if (this.closing) {
      if (r.http1) c.closeAfter = true;
      response = withClose(response);
    } else if (r.http1 && response.headers.get("connection")?.toLowerCase().includes("close")) c.closeAfter = true;
    // The request is settled when Deno has the response: at once for a whole body (no promise
    // per request); once Deno reports it sent for a body that may keep producing.
    if (streamed) r.info.completed.then(c.done, c.done);
    else c.done();
    return response;
  };
}

function withClose(response: Response): Response {
  try {
    response.headers.set("connection", "close");
    return response;
  } catch {
    // Immutable headers (e.g. Response.redirect): copy them into a new response.
    const headers = new Headers(response.headers);
    headers.set("connection", "close");
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}

/** How the listener serves, decided once per spec. */
interface Plan {
  readonly router: Dispatcher;
  readonly deadlines: Http1Deadlines;
  /** spawnH2c without `http1`: every connection is HTTP/2 on tako's codec. */
  readonly h2cOnly: boolean;
  /** HTTP/2 on tako's codec (h2c-only, or TLS with HTTP/2 on: ALPN `h2`): its policy; `null`: none. */
  readonly h2: H2Policy | null;
  readonly tls: boolean;
  /** Only the first accept error of a streak is logged. */
  readonly backoffInitial: number;
  readonly bodyDeadline: BodyDeadline | null;
  /** PROXY protocol, required mode: read before the connection goes to Deno's server. */
  readonly proxy: { readonly mode: "required" | "optional"; readonly timeout: number; readonly onBadCrc: "reject" | "flag" } | null;
  readonly served: WatchedRequests;
}

/**
 * Deno engine: a plain `Deno.listen` at bind time; `serve` starts accepting on it (connections
 * made meanwhile wait in the backlog) and serves each accepted connection under tako's
 * connection cap, deadlines and drain: HTTP/2 (an h2c-only port, or ALPN `h2` over TLS) on
 * tako's codec (`H2Conn` from `adapters/wire/` on a {@link DenoH2Socket}, every `h2*` field
 * honoured), anything else on Deno's own HTTP server for that one connection
 * (`serveHttpOnConnection`: hyper; HTTP/1.1, and h2c too on a port that also speaks HTTP/1.1,
 * which only Deno's server can tell apart without reading bytes it could not be given back). TLS swaps the plain listener for a `Deno.listenTls` on the
 * same port in one synchronous step. What that path cannot do (client certificates, SNI
 * resolvers, the PROXY protocol) moves the listener to Deno's node:net, the Node engine's transports.
 */
class DenoListener implements EngineListener {
  #listener: NativeListener;
  readonly #local: SocketAddr;
  readonly #lifecycle = new Lifecycle<Connection>();
  readonly #observer = new CloseObserver();
  readonly #serveOn: ServeOnConnection | null;
  #plan: Plan | null = null;
  #backoff: Backoff | null = null;
  /** The accept loop; settles once its pending `accept()` has given the listener back. */
  #accepting: Promise<void> = Promise.resolve();
  #stopped = false;
  /** The listener moved to Deno's node:net or node:http: its lifecycle. */
  #moved: Lifecycle<unknown> | null = null;
  readonly #onIdle = (c: Connection): void => this.#idle(c);
  #sweeper: ReturnType<typeof setInterval> | null = null;

  readonly #target: Exclude<BindTarget, { kind: "fd" }>;

  constructor(target: Exclude<BindTarget, { kind: "fd" }>) {
    this.#serveOn = serveOnConnection();
    this.#target = target;
    if (target.kind === "unix") {
      this.#listener = deno().listen({ transport: "unix", path: target.path });
      try {
        applyMode(target);
      } catch (error) {
        this.#listener.close();
        throw error;
      }
      this.#local = { address: displayPath(target.path), port: 0, family: "unix" };
    } else {
      this.#listener = deno().listen(target.reusePort ? { hostname: target.host, port: target.port, reusePort: true } : { hostname: target.host, port: target.port });
      const addr = this.#listener.addr as DenoNetAddr;
      this.#local = { address: addr.hostname, port: addr.port, family: addr.hostname.includes(":") ? "IPv6" : "IPv4" };
    }
  }

  localAddr(): SocketAddr {
    return this.#local;
  }

  /**
   * Decides the path for the whole spec. HTTP/2 runs on tako's codec, except on an h2c port that
   * also speaks HTTP/1.1 (`{ http1: true }`): that stays on Deno's own server (hyper, fixed
   * settings), where the `h2*` fields are refused. (Deno's node:http2 aborted the process under
   * ordinary load when measured: an nghttp2 assertion, `free(): invalid pointer`.)
   */
  serve(spec: ServeSpec): Serving {
    const { explicit, proxy } = spec;
    if (spec.protocol === "h2c" && spec.http1) {
      const field = H2_FIELDS.find((f) => explicit.has(f));
      if (field !== undefined) {
        throw new TakoError(
          "TAKO_ERR_UNSUPPORTED",
          `spawnH2c(…, { http1: true }) on Deno cannot honour "${field}": telling HTTP/2 from HTTP/1.1 on one port means reading bytes that only Deno's own server can then be given (it cannot take them back), and its HTTP/2 (hyper) has fixed limits (200 streams, 16 KiB header list, no keep-alive PING). Serve h2c alone (spawnH2c without http1: tako's HTTP/2, every h2 field honoured) and HTTP/1.1 on another port, or leave "${field}" unset`,
        );
      }
    }
    if (spec.protocol === "h2c" && spec.http1 && proxy.mode === "optional") {
      throw new TakoError(
        "TAKO_ERR_UNSUPPORTED",
        'spawnH2c(…, { http1: true }) on Deno cannot read the PROXY protocol in "optional" mode: that port is Deno\'s own server, to which the header is read without reading one byte past it (Deno cannot be given bytes back), which only "required" mode allows; use "required" mode, spawnH2c without http1 (tako\'s HTTP/2, both modes), or spawnHttp behind the proxy',
      );
    }
    const serveOn = this.#serveOn;
    if (serveOn === null) {
      console.error(
        "tako: this Deno has no Deno[Deno.internal].serveHttpOnConnection (present in Deno 2.9.6): serving on Deno's node:net path instead, which is several times slower. Pin a Deno that has it.",
      );
      return this.#moveToNetPath(spec.protocol === "tls" ? { ...spec, tls: { ...spec.tls, http2: false } } : spec);
    }
    // WebSocket routes: a Deno.upgradeWebSocket socket on a serveHttpOnConnection server is
    // closed as soon as the upgrade ends that server's HTTP (measured, Deno 2.9.6: close code
    // 1005 at once; after a graceful shutdown, 1001), so the native path cannot keep one open.
    // Cleartext HTTP/1.1 on a TCP port or a Unix path: Deno's node:http listening itself, whose
    // 'upgrade' feeds the `ws` package (GET / 26–29k req/s there against 22–24k through the
    // node:net hand-off; measured, one pinned core).
    // TLS: node:net (node:tls). h2c stays native (HTTP/2 there is Deno's own): its HTTP/1.1
    // side answers upgrades 426.
    if (spec.router.hasUpgrades?.() === true && spec.protocol !== "h2c") {
      const t = this.#target;
      const ownListen = t.kind === "unix" ? !t.path.startsWith("\0") : !t.reusePort;
      if (spec.protocol === "http1" && proxy.mode === "off" && ownListen && !explicit.has("acceptBackoff")) return this.#moveToNodeHttp(spec);
      return this.#moveToNetPath(spec.protocol === "tls" ? { ...spec, tls: { ...spec.tls, http2: false } } : spec);
    }
    // PROXY in "optional" mode, or before TLS: node:net, which can put back the bytes it read
    // (optional) and read the header before the ClientHello (Deno.listenTls starts the
    // handshake itself). "required" on cleartext: read here, without reading past the header.
    if ((proxy.mode === "optional" && spec.protocol !== "h2c") || (proxy.mode === "required" && spec.protocol === "tls"))
      return this.#moveToNetPath(spec.protocol === "tls" ? { ...spec, tls: { ...spec.tls, http2: false } } : spec);
    // Deno.listenTls binds TCP only: TLS on a Unix socket is node:tls on Deno's node:net.
    if (spec.protocol === "tls" && this.#target.kind === "unix") return this.#moveToNetPath({ ...spec, tls: { ...spec.tls, http2: false } });
    if (spec.protocol === "tls") {
      const { cert, http2 } = spec.tls;
      // node:tls for client certificates (Deno.listenTls has no client authentication), SNI
      // resolvers (tako reports the SNI name and reloads certificates, which Deno's resolver does
      // not show or allow) and an explicit tlsHandshakeTimeout: a Deno.listenTls connection whose
      // handshake stalls cannot be closed from JavaScript (measured, Deno 2.9.6: neither
      // `close()`, `closeWrite()` nor cancelling its HTTP server sent a FIN within 5 s).
      if (cert.source.kind === "resolver" || cert.clientAuth !== null || explicit.has("tlsHandshakeTimeout")) return this.#moveToNetPath({ ...spec, tls: { cert, http2: false } });
      const material = loadCert(cert);
      // One synchronous step: no connect can be refused between the two listeners (a connect
      // queued on the plain one since bind, before the port was in use, would be reset).
      this.#listener.close();
      this.#listener = deno().listenTls({
        hostname: this.#local.address,
        port: this.#local.port,
        ...(this.#target.kind === "tcp" && this.#target.reusePort ? { reusePort: true } : {}),
        cert: material.certPem,
        key: material.keyPem,
        alpnProtocols: http2 ? ["h2", "http/1.1"] : ["http/1.1"],
      });
    }
    const config = spec.config;
    this.#plan = {
      router: spec.router,
      deadlines: http1Deadlines(config),
      h2cOnly: spec.protocol === "h2c" && !spec.http1,
      h2: (spec.protocol === "h2c" && !spec.http1) || (spec.protocol === "tls" && spec.tls.http2) ? new H2Policy(spec.router, config, bodyDeadline(config)) : null,
      tls: spec.protocol === "tls",
      backoffInitial: config.acceptBackoff.initial,
      bodyDeadline: bodyDeadline(config),
      proxy: proxy.mode === "off" ? null : { mode: proxy.mode, timeout: config.proxyReadTimeout, onBadCrc: proxy.onBadCrc },
      served: new WatchedRequests(config.handlerTimeout),
    };
    this.#backoff = new Backoff(config.acceptBackoff);
    if (!config.keepAlive) this.#observer.closing = true;
    this.#lifecycle.start(
      {
        stopAccepting: () => this.#stopAccepting(),
        drainConnections: () => {
          this.#observer.closing = true;
          if (this.#plan!.h2 !== null) this.#plan!.h2.closing = true;
          this.#lifecycle.forEach((c) => {
            this.#drainOne(c);
          });
        },
        destroyConnections: () => {
          if (this.#plan!.h2 !== null) this.#plan!.h2.forced = true;
          this.#plan!.served.force();
          this.#observer.force();
          this.#lifecycle.forEach((c) => {
            c.kill();
          });
        },
        released: () => {
          if (this.#sweeper !== null) clearInterval(this.#sweeper);
          this.#sweeper = null;
        },
        // A TLS connection in its handshake is never shed: it cannot be closed before the handshake ends.
        // A stalled upload (below bodyMinRate) counts as idle too.
        idle: (conn) => {
          const c = conn as Connection;
          if (c.wire !== null) return c.wire.h2!.idle;
          if (c.inflight === 0) return c.server !== null || !this.#plan!.tls;
          return config.bodyMinRate !== null && stalledUpload(c, config.bodyMinRate);
        },
        shed: (c) => (c as Connection).kill(),
        peer: (c) => peerOf((c as Connection).conn),
      },
      connectionCap(config),
    );
    if (!this.#stopped) {
      this.#sweeper = setInterval(() => this.#sweep(), sweepInterval(this.#plan));
      this.#accepting = this.#accept(this.#listener, serveOn);
    }
    return this.#lifecycle;
  }

  /** Accepts until the listener closes; accept errors (EMFILE …) back off and go on. */
  async #accept(listener: NativeListener, serveOn: ServeOnConnection): Promise<void> {
    const backoff = this.#backoff!;
    for (;;) {
      let conn: DenoConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#stopped) return;
        if (isClosed(error)) return this.#stopAccepting();
        const delay = backoff.next();
        if (delay === this.#plan!.backoffInitial) console.error(`tako: accept failed (${error instanceof Error ? error.message : String(error)}); retrying in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (this.#stopped) return;
        continue;
      }
      backoff.reset();
      this.#admit(conn, serveOn);
    }
  }

  #admit(conn: DenoConn, serveOn: ServeOnConnection): void {
    const plan = this.#plan!;
    const c = new Connection(conn, this.#onIdle, plan.bodyDeadline);
    if (!this.#lifecycle.admit(c)) return this.#refuse(conn, plan);
    if (plan.proxy !== null) {
      c.since = Date.now();
      c.limit = plan.proxy.timeout;
      // Optional mode is served only on tako's codec (an h2c-only port), which takes the bytes read past the header.
      const opening =
        plan.proxy.mode === "optional" ? readProxyOpening(conn, plan.proxy.onBadCrc) : readProxyHeader(conn, plan.proxy.onBadCrc).then((header) => ({ header, rest: EMPTY }));
      opening.then(
        ({ header, rest }) => {
          if (c.gone) return;
          c.proxy = header;
          this.#start(c, serveOn, plan, rest);
        },
        (error: unknown) => {
          if (connectionRefused.hasSubscribers) publishConnection(connectionRefused, c, peerOf(conn), "proxy", error);
          this.#drop(c);
        },
      );
      return;
    }
    if (!plan.tls) return this.#start(c, serveOn, plan);
    // No handshake deadline here: a stalled handshake cannot be closed (see `serve`).
    conn.handshake!().then(
      (info) => {
        if (c.gone) return closeConn(conn);
        c.alpn = info.alpnProtocol;
        this.#start(c, serveOn, plan);
      },
      (error: unknown) => {
        if (connectionRefused.hasSubscribers) publishConnection(connectionRefused, c, peerOf(conn), "tls", error);
        this.#drop(c);
      },
    );
  }

  /** Over the cap: a prompt refusal in the protocol the port speaks, then close. */
  #refuse(conn: DenoConn, plan: Plan): void {
    if (plan.tls) {
      // A Deno.listenTls connection can be closed only once its handshake has ended (see
      // `serve`): closed then, without a response.
      const end = (): void => closeConn(conn);
      conn.handshake!().then(end, end);
      return;
    }
    const bytes = plan.h2cOnly ? BUSY_H2_BYTES : BUSY_H1_BYTES;
    // FIN after the refusal, then what the peer sent is read and dropped until it closes: a
    // close with unread input resets the connection, and the peer would lose the refusal.
    // Bounded: a peer that never reads or never closes is cut after a second.
    const timer = setTimeout(() => closeConn(conn), 1000);
    const end = (): void => {
      clearTimeout(timer);
      closeConn(conn);
    };
    conn
      .write(bytes)
      .then(() => conn.closeWrite())
      .then(() => readToEnd(conn))
      .then(end, end);
  }

  /** `first`: bytes read past a PROXY header (optional mode, tako's codec only). */
  #start(c: Connection, serveOn: ServeOnConnection, plan: Plan, first: Uint8Array = EMPTY): void {
    if (this.#lifecycle.draining) return this.#drop(c);
    if (plan.h2 !== null && (plan.h2cOnly || c.alpn === "h2")) return this.#startH2(c, plan.h2, first);
    c.since = Date.now();
    c.limit = plan.deadlines.firstHead;
    const server = serveOn(c.conn, c.abort.signal, (request, info) => this.#request(c, plan, request, info), SERVER_ERROR, ignore);
    c.server = server;
    const ended = (): void => {
      c.ended = true;
      this.#drop(c);
    };
    server.finished.then(ended, ended);
  }

  /**
   * HTTP/2 on tako's codec: the connection's socket ({@link DenoH2Socket}) reads into the codec
   * and writes its output; the deadlines are the connection's (`H2Conn.sweep`, from the sweep).
   */
  #startH2(c: Connection, policy: H2Policy, first: Uint8Array): void {
    c.limit = null;
    const conn = c.conn;
    const socket = new DenoH2Socket(conn, connInfoOf(c, this.#local, "2.0"), peerOf(conn), () => this.#drop(c));
    const h2 = new H2Conn(socket, policy, Date.now());
    socket.h2 = h2;
    c.wire = socket;
    h2.start();
    if (first.length > 0) h2.data(first);
    void socket.run();
  }

  /**
   * The drain, per connection: one with a request in flight closes after its last response
   * (HTTP/1.1 with `Connection: close` on it; still cancellable until then, for the drain
   * deadline); idle ones shut down gracefully now (HTTP/2 with GOAWAY). On tako's codec the
   * GOAWAY goes at once and the connection closes after its last stream. On Deno's server an
   * HTTP/2 connection with streams in flight is not shut down yet: Deno's graceful shutdown resets them
   * (RST_STREAM CANCEL within milliseconds, measured, Deno 2.9.6), so it waits for its last
   * response, then sends GOAWAY.
   */
  #drainOne(c: Connection): void {
    if (c.wire !== null) c.close();
    else if (c.inflight > 0) c.closeAfter = true;
    else this.#close(c);
  }

  /** Graceful close; on HTTP/2 Deno's server sends GOAWAY NO_ERROR (reported to the diagnostics channel). */
  #close(c: Connection): void {
    if (c.h2 && h2Goaway.hasSubscribers && c.server !== null && !c.shut && !c.ended && !c.abort.signal.aborted) publishGoaway(0, "drain", peerOf(c.conn));
    c.close();
  }

  /** The connection is closed (or closes now): no longer tracked. */
  #drop(c: Connection): void {
    c.kill();
    this.#lifecycle.release(c);
  }

  /**
   * Closes every connection whose phase outlasted its limit with no request in flight: a late
   * PROXY header, first head or next head. No 408 can
   * be written: Deno's server owns the socket.
   */
  #sweep(): void {
    const now = Date.now();
    this.#plan!.h2?.tick(now);
    this.#lifecycle.forEach((c) => {
      if (c.wire !== null) c.wire.h2!.sweep(now);
      else if (c.limit !== null && c.inflight === 0 && now - c.since >= c.limit) c.kill();
    });
  }

  /** The last request in flight on `c` was answered. */
  #idle(c: Connection): void {
    if (c.gone) return;
    if (c.closeAfter || this.#lifecycle.draining) {
      // Deno's graceful shutdown waits for the rest of a request body nobody reads (measured: a
      // 413 to a 2 MB upload kept the connection until the client closed it), and it cannot be
      // cancelled once begun. So after a request that declared a body, the connection is
      // closed outright once its response has had time to go out; otherwise gracefully.
      if (c.h2 || c.last === null || !declaresBody(c.last)) return this.#close(c);
      setTimeout(() => c.kill(), CLOSE_GRACE_MS); // rare: one timer for a closing connection
      return;
    }
    c.since = Date.now();
    c.limit = this.#plan!.deadlines.nextHead;
  }

  #request(c: Connection, plan: Plan, request: Request, info: DenoServeInfo): Response | Promise<Response> {
    // A request read after a response that closes the connection (pipelined behind it): Deno's
    // server wrote that response before reading this one; the connection ends here unserved.
    if (c.closeAfter && !c.h2) {
      c.kill();
      return NEVER; // no answer: a response returned here would still be written before the close
    }
    c.inflight++;
    c.limit = null;
    c.last = request;
    const http1 = isHttp1(request, c);
    if (!http1) c.h2 = true;
    else {
      const refused = refusedHead(request);
      if (refused !== null) {
        c.closeAfter = true;
        info.completed.then(c.done, c.done);
        return refused;
      }
    }
    const req = new DenoRequest(request, c, info, this.#local, http1, plan.served);
    return requestStart.hasSubscribers ? traceFetch(plan.router, req, this.#observer) : plan.router.handleFetch(req, this.#observer);
  }

  #stopAccepting(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    // Deno closes the socket only once the pending accept() has settled: until then a connect is
    // taken by the kernel and then reset (measured, Deno 2.9.6). The listener is closed after it.
    this.#accepting.then(() => this.#lifecycle.listenerClosed());
  }

  /** Moves this listener to Deno's node:net on the same port (closed first: connects are refused meanwhile). */
  #moveToNetPath(spec: ServeSpec): Serving {
    const moved = new Lifecycle<Socket>();
    this.#moved = moved;
    return moveToNetPath(Promise.resolve(), this.#giveUp(), moved, spec);
  }

  /**
   * HTTP/1.1 on Deno's node:http listening on the port itself (the code Bun's default path
   * runs: tako's cap and deadlines on node:http's `'connection'` sockets), faster than the node:net
   * hand-off. The lifecycle starts once it listens.
   */
  #moveToNodeHttp(spec: ServeSpec): Serving {
    const moved = new Lifecycle<unknown>();
    this.#moved = moved;
    const target = this.#giveUp();
    if (target.kind === "unix") {
      try {
        unlinkSync(target.path); // left by Deno.listen, this listener's own
      } catch {
        // already gone
      }
    }
    const h1 = new ListeningHttp1();
    h1.listen(target.kind === "unix" ? target : { host: this.#local.address, port: this.#local.port }).then(
      () => serveNodeHttp(h1, spec, moved),
      (error: unknown) => {
        h1.abandon();
        moved.fail(error);
      },
    );
    return moved;
  }

  /** Closes the native listener for another server to bind `target`, the same address. */
  #giveUp(): Exclude<BindTarget, { kind: "fd" }> {
    this.#stopped = true;
    this.#listener.close();
    const t = this.#target;
    return t.kind === "unix" ? t : { kind: "tcp", host: this.#local.address, port: this.#local.port, reusePort: t.reusePort };
  }

  close(): Promise<void> {
    if (this.#moved !== null) {
      this.#moved.forceClose();
      return this.#moved.closed;
    }
    this.#lifecycle.forceClose();
    if (this.#plan === null) this.#stopAccepting();
    return this.#lifecycle.closed;
  }
}

/** Reads and drops what `conn` still sends until the peer closes it. */
async function readToEnd(conn: DenoConn): Promise<void> {
  const sink = new Uint8Array(16 * 1024);
  while ((await conn.read(sink)) !== null);
}

const EMPTY = new Uint8Array(0);

/** A response that never comes (the connection is being cancelled). */
const NEVER: Promise<Response> = new Promise(() => {});

/**
 * How often the listener checks its connections' deadlines: an eighth of the shortest one,
 * between 25 ms and 1 s (a deadline is enforced within that much of its value).
 */
function sweepInterval(plan: Plan): number {
  const limits = [plan.deadlines.firstHead, plan.deadlines.nextHead, plan.proxy?.timeout ?? null, ...(plan.h2?.deadlines ?? [])].filter((l): l is number => l !== null);
  return limits.length === 0 ? 1000 : Math.min(1000, Math.max(25, Math.floor(Math.min(...limits) / 8)));
}

/** How long a response has to go out before a connection with an unread request body is closed. */
const CLOSE_GRACE_MS = 100;

function declaresBody(request: Request): boolean {
  const length = request.headers.get("content-length");
  return (length !== null && length !== "0") || request.headers.has("transfer-encoding");
}

/** The listener was closed (our drain, or `close()`): the accept loop ends. */
function isClosed(error: unknown): boolean {
  const errors = deno().errors;
  return error instanceof errors.BadResource || error instanceof errors.Interrupted;
}

export const denoEngine: Engine = {
  runtime: "deno",
  /**
   * TCP and Unix sockets (paths and abstract names): `Deno.listen`. `reusePort` is an unstable
   * option there: without `--unstable-net` Deno exits the process (code 70) when it is asked,
   * so it is refused first. A descriptor: `Deno.listen` cannot adopt one, Deno's node:net can
   * (served on the node:net path).
   */
  async bind(target) {
    if (target.kind === "fd") return bindNodeListener(target, { emulated: true });
    if (target.kind === "tcp" && target.reusePort && deno().listenDatagram === undefined) {
      throw new TakoError(
        "TAKO_ERR_UNSUPPORTED",
        "TcpListener.bind(addr, { reusePort: true }) on Deno needs the --unstable-net flag (Deno.listen's reusePort is unstable, and without the flag Deno exits the process): run `deno run --unstable-net …`",
      );
    }
    return new DenoListener(target);
  },
  serveH3: (spec) => serveH3WithAddon(spec, "Deno"),
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
