import type { Engine, EngineListener, ServeSpec, Serving, SocketAddr } from "../engine.ts";
import { nodeEngine } from "../node/node-engine.ts";
import { TakoError } from "../../core/errors.ts";
import { applyMode } from "../shared/socket-file.ts";
import type { H1Opening, H1Server } from "../wire/h1-server.ts";
import { BunWireTls, bunH1Server } from "./h1-listen.ts";
import { BunTls } from "./tls.ts";
import { serveBunH3 } from "./h3.ts";

/**
 * What a connection opens with for `spec` on `Bun.listen`: HTTP/1.1 and h2c (HTTP/2 from the
 * first byte, or chosen by the first bytes when HTTP/1.1 shares the port), each with or without
 * a PROXY header first; TLS, with or without a PROXY header first (a static certificate, or one a
 * resolver chooses by the ClientHello's server name), where ALPN hands `h2` to tako's HTTP/2
 * codec and `http/1.1` to its HTTP/1.1 codec (WebSocket upgrades included: the socket goes to
 * `ws`). Every deadline is tako's own there, so any `headerReadTimeout` is kept exactly.
 */
function openingOf(spec: ServeSpec): H1Opening {
  if (spec.protocol === "http1") return { proxy: spec.proxy, tls: null };
  if (spec.protocol === "h2c") return { proxy: spec.proxy, tls: null, http2: spec.http1 ? "sniff" : "only" };
  return { proxy: spec.proxy, tls: new BunWireTls(new BunTls(spec.tls)), http2: spec.tls.http2 ? "alpn" : "off" };
}

/**
 * Why `acceptBackoff` cannot be honoured on Bun. Measured (Bun 1.4.5, descriptor limit 64, 120
 * connects): `Bun.listen` and Bun's node:net both retry a failing accept on their own, at 100%
 * CPU until a descriptor is free, and neither reports the error to JavaScript, so there is no
 * accept to pace.
 */
const ACCEPT_BACKOFF =
  '"acceptBackoff" is not supported on Bun: Bun accepts connections natively and retries a failing accept (EMFILE) on its own without reporting it, so there is nothing to pace. The connection cap (maxConnections, by default the descriptor limit less a reserve of 64 to 1,024) keeps the server\'s own connections from exhausting descriptors; leave "acceptBackoff" unset';

/**
 * Bun engine. `bind` binds raw TCP (or a Unix socket) with `Bun.listen` ({@link H1Server});
 * connections that arrive before a spec is served wait for it, their bytes unread.
 *
 * - HTTP/1.1, h2c and TLS ({@link openingOf}): served there with tako's HTTP/1.1 codec
 *   (`core/http1/`) and tako's HTTP/2 codec (`core/http2/`, `H2Conn`: h2c from the first
 *   byte, or chosen by the client preface when HTTP/1.1 shares the port; over TLS chosen by
 *   ALPN, `h2` offered first unless HTTP/2 is off) with every policy of the lifecycle kernel;
 *   a WebSocket upgrade on HTTP/1.1 hands the socket to the `ws` package (`H1Conn`, `WsBridge`);
 *   with `proxyProtocol` the PROXY header is read first (`core/proxy-protocol/`'s reader,
 *   `proxyReadTimeout`); over TLS each socket is upgraded in place (`upgradeTLS`,
 *   {@link BunTls}: a resolver chooses the certificate by the ClientHello's server name before the
 *   handshake, at once or later; after a PROXY header with the bytes that followed it as
 *   `initialData`) and `tlsHandshakeTimeout` bounds the handshake. Nothing moves,
 *   so no connect is ever refused between bind and the drain. Measured (bench/http, GET /,
 *   2026-11-30): h2c 1.47× and h2 over TLS 1.26× raw `Bun.serve`, where Bun's node:http2 on the
 *   node:net path served h2c at 0.24× (docs/benchmarks.md).
 *
 * Bun.serve is not used: it shows no connection to JavaScript, so neither the connection cap nor
 * a deadline on a slowly dripped head can be kept there (measured, Bun 1.4.5; see
 * docs/runtime-coverage.md).
 */
class BunListener implements EngineListener {
  /** The `Bun.listen` socket bound at `bind`. */
  readonly #h1: H1Server;
  #serving = false;

  constructor(h1: H1Server) {
    this.#h1 = h1;
  }

  localAddr(): SocketAddr {
    return this.#h1.local;
  }

  serve(spec: ServeSpec): Serving {
    if (spec.explicit.has("acceptBackoff")) throw new TakoError("TAKO_ERR_UNSUPPORTED", ACCEPT_BACKOFF);
    const serving = this.#h1.serve(spec.router, spec.config, openingOf(spec));
    this.#serving = true;
    return serving;
  }

  close(): Promise<void> {
    if (this.#serving) {
      this.#h1.lifecycle.forceClose();
      return this.#h1.lifecycle.closed;
    }
    this.#h1.abandon();
    return Promise.resolve();
  }
}

export const bunEngine: Engine = {
  runtime: "bun",
  /**
   * TCP and Unix paths, and inherited listening descriptors: `Bun.listen` ({@link H1Server}),
   * bound now, `reusePort` included (`SO_REUSEPORT`).
   */
  async bind(target) {
    const h1 = bunH1Server(
      target.kind === "unix" ? { path: target.path } : target.kind === "fd" ? { fd: target.fd } : { host: target.host, port: target.port, reusePort: target.reusePort },
    );
    if (target.kind === "unix") {
      try {
        applyMode(target);
      } catch (error) {
        h1.abandon();
        throw error;
      }
    }
    return new BunListener(h1);
  },
  /** HTTP/3: Bun.serve's own QUIC stack, HTTP/3 only on the UDP port (see `h3.ts`). */
  async serveH3(spec) {
    return serveBunH3(spec);
  },
  onSignals: nodeEngine.onSignals,
};
