import { type BodyDeadline, bodyDeadline } from "../../core/body.ts";
import { type ConnInfo, SocketConnInfo, type TlsInfo } from "../../core/conn-info.ts";
import type { ServerConfig } from "../../core/config.ts";
import { TakoError } from "../../core/errors.ts";
import type { AnyRequest, FetchObserver } from "../../core/router/types.ts";
import type { H3Serving, H3Spec, SocketAddr } from "../engine.ts";
import { requestStart, traceFetch } from "../shared/diagnostics.ts";
import { Lifecycle } from "../shared/lifecycle.ts";
import { NativeSignalRequest, WatchedRequests } from "../shared/native-signal.ts";
import { loadCert } from "../shared/tls-material.ts";
import { type BunServer, bun } from "./bun-api.ts";

/**
 * What Bun's HTTP/3 (lsquic inside `Bun.serve`, Bun 1.4.5) does with no knob to change it, read
 * from its transport parameters with an ngtcp2 client: `initial_max_streams_bidi` 100,
 * `initial_max_streams_uni` 3, `max_datagram_frame_size` 0 (no datagrams), and no Retry.
 * A field set explicitly to one of these values is honoured; any other explicit value is refused.
 */
const BUN_FIXED = Object.freeze({
  h3MaxConcurrentBidiStreams: 100,
  h3MaxConcurrentUniStreams: 3,
  h3EnableDatagrams: false,
  h3UseRetry: false,
});

/** Bun's `idleTimeout` is whole seconds, at most 255 (Bun refuses more). */
const BUN_IDLE_MAX_S = 255;

const unsupported = (message: string): TakoError => new TakoError("TAKO_ERR_UNSUPPORTED", `HTTP/3 on Bun: ${message} (see docs/http3.md)`);

/**
 * The `idleTimeout` (seconds) for `config`, or `undefined` for Bun's default. Throws for what
 * Bun cannot honour, explicit fields only: an idle timeout that is not whole seconds in 1..255,
 * a stream cap, datagrams or Retry other than Bun's fixed behaviour, a congestion controller
 * (Bun has no choice of one and its choice cannot be read from the wire), a connection cap
 * (Bun.serve shows no QUIC connection to JavaScript), and TLS it cannot do over HTTP/3.
 */
function bunH3Options(spec: H3Spec): number | undefined {
  const { config, explicit } = spec;
  for (const field of Object.keys(BUN_FIXED) as (keyof typeof BUN_FIXED)[]) {
    if (explicit.has(field) && config[field] !== BUN_FIXED[field]) {
      throw unsupported(`"${field}" cannot be ${JSON.stringify(config[field])}: Bun's HTTP/3 has no setting for it and always uses ${JSON.stringify(BUN_FIXED[field])}`);
    }
  }
  if (explicit.has("h3Congestion")) throw unsupported(`"h3Congestion" cannot be chosen: Bun's HTTP/3 has no setting for its congestion controller`);
  if (explicit.has("maxConnections")) {
    throw unsupported(`"maxConnections" cannot be kept over HTTP/3: Bun.serve shows no QUIC connection to JavaScript, so none can be counted or refused`);
  }
  const cert = spec.tls;
  if (cert.source.kind === "resolver") {
    throw unsupported("TlsCert.resolver (a certificate chosen per handshake) cannot be used: Bun.serve takes its certificates when it starts");
  }
  if (cert.clientAuth !== null) {
    throw unsupported(
      "withClientAuth cannot be used: Bun.serve gives handlers no client certificate (req.conn.tls.peerCertificate could not be filled), and in optional mode it would accept an invalid one",
    );
  }
  const idle = config.h3MaxIdleTimeout;
  if (idle === null) return undefined;
  const seconds = idle / 1000;
  if (Number.isInteger(seconds) && seconds >= 1 && seconds <= BUN_IDLE_MAX_S) return seconds;
  throw unsupported(`"h3MaxIdleTimeout" cannot be ${idle} ms: Bun sets the QUIC idle timeout in whole seconds from 1 to ${BUN_IDLE_MAX_S}`);
}

/** What the requests of one HTTP/3 server share. */
class Served extends WatchedRequests {
  readonly local: SocketAddr;
  readonly bodyDeadline: BodyDeadline | null;
  server: BunServer | null = null;

  constructor(local: SocketAddr, config: ServerConfig) {
    super(config.handlerTimeout);
    this.local = local;
    this.bodyDeadline = bodyDeadline(config);
  }
}

/** QUIC is TLS 1.3 only (RFC 9001 §4.2) and HTTP/3's ALPN is `h3` (RFC 9114 §3.1); Bun shows nothing else of the handshake. */
const H3_TLS: TlsInfo = Object.freeze({ alpnProtocol: "h3", serverName: null, protocol: "TLSv1.3", cipher: null, peerCertificate: null });

/** A request that came over Bun's HTTP/3: Bun aborts its native signal when the client leaves. */
class BunH3Request extends NativeSignalRequest {
  readonly #served: Served;

  constructor(native: Request, served: Served) {
    super(native, served);
    this.#served = served;
  }

  protected override bodyDeadline(): BodyDeadline | null {
    return this.#served.bodyDeadline;
  }

  protected override makeConn(): ConnInfo {
    const local = this.#served.local;
    const peer = this.#served.server?.requestIP(this.raw) ?? null;
    return new SocketConnInfo(peer?.address ?? "", peer?.port ?? 0, local.address, local.port, "3", H3_TLS, null, local.family === "IPv6" ? "IPv6" : "IPv4");
  }
}

/** Marks each request complete when its response is (at once, or at the end of a tracked stream). */
class H3Observer implements FetchObserver {
  readonly quietStreamErrors = true;
  readonly ended = (req: AnyRequest): void => (req as BunH3Request).finished();
  readonly finish = (response: Response, req: AnyRequest, _streamed: boolean, tracked: boolean): Response => {
    if (!tracked) (req as BunH3Request).finished();
    return response;
  };
}

const SERVER_ERROR = (): Response => new Response("Internal Server Error", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });

/**
 * HTTP/3 on Bun: `Bun.serve({ tls, http3: true, http1: false })`, Bun's own QUIC stack on the
 * UDP port and nothing on TCP. Bun binds within `Bun.serve` (a taken port throws there). The
 * drain is Bun's graceful stop, which sends HTTP/3 GOAWAY, closes idle connections at once,
 * ignores new ones and lets in-flight requests finish; `min(h3GoawayGrace, drainTimeout)` later
 * (or at the handle's drain deadline) every connection is closed.
 */
export function serveBunH3(spec: H3Spec): H3Serving {
  const idleTimeout = bunH3Options(spec);
  const material = loadCert(spec.tls);
  const router = spec.router;
  const observer = new H3Observer();
  const lifecycle = new Lifecycle<never>();
  let served: Served | null = null;
  const server = bun().serve({
    hostname: spec.host,
    port: spec.port,
    tls: { cert: material.certPem, key: material.keyPem },
    http3: true,
    http1: false,
    ...(idleTimeout === undefined ? {} : { idleTimeout }),
    development: false,
    fetch(request) {
      const req = new BunH3Request(request, served!);
      return requestStart.hasSubscribers ? traceFetch(router, req, observer) : router.handleFetch(req, observer);
    },
    error: SERVER_ERROR,
  });
  const local: SocketAddr = { address: server.hostname, port: server.port, family: server.hostname.includes(":") ? "IPv6" : "IPv4" };
  served = new Served(local, spec.config);
  served.server = server;
  const grace = Math.min(spec.config.h3GoawayGrace, spec.config.drainTimeout);
  let stopping = false;
  let graceTimer: ReturnType<typeof setTimeout> | null = null;
  lifecycle.start({
    stopAccepting: () => {
      if (stopping) return;
      stopping = true;
      const closed = (): void => lifecycle.listenerClosed();
      server.stop(false).then(closed, closed);
    },
    drainConnections: () => {
      graceTimer = setTimeout(() => lifecycle.forceClose(), grace);
    },
    destroyConnections: () => {
      served.force();
      server.stop(true).catch(() => {});
    },
    released: () => {
      if (graceTimer !== null) clearTimeout(graceTimer);
    },
  });
  return Object.assign(lifecycle, { localAddr: () => local });
}
