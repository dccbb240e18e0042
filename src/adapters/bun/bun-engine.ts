import { createServer as createNetServer, type Socket } from "node:net";
import { existsSync, unlinkSync } from "node:fs";
import type { BindTarget, Engine, EngineListener, ServeSpec, Serving, SocketAddr } from "../engine.ts";
import { NodeAcceptor } from "../node/acceptor.ts";
import { bindNodeListener, NodeListener, nodeEngine } from "../node/node-engine.ts";
import { TakoError } from "../../core/errors.ts";
import { Lifecycle } from "../shared/lifecycle.ts";
import { applyMode } from "../shared/socket-file.ts";
import type { H1Opening, H1Server } from "../wire/h1-server.ts";
import { BunWireTls, bunH1Server } from "./h1-listen.ts";
import { BunTls } from "./tls.ts";
import { serveBunH3 } from "./h3.ts";

/**
 * What a connection opens with when `spec` is served on the `Bun.listen` path, or `null` when it
 * is not: HTTP/1.1 and h2c (HTTP/2 from the first byte, or chosen by the first bytes when
 * HTTP/1.1 shares the port), each with or without a PROXY header first; TLS, with or without
 * a PROXY header first (a static certificate or a resolver with an answer for clients without
 * SNI, {@link BunTls.create}), where ALPN hands `h2` to tako's HTTP/2 codec and `http/1.1` to
 * its HTTP/1.1 codec (WebSocket upgrades included: the socket goes to `ws`).
 * Every deadline is tako's own there, so any `headerReadTimeout` is kept exactly.
 */
function listenPathOpening(spec: ServeSpec): H1Opening | null {
  if (spec.protocol === "http1") return { proxy: spec.proxy, tls: null };
  if (spec.protocol === "h2c") return { proxy: spec.proxy, tls: null, http2: spec.http1 ? "sniff" : "only" };
  const tls = BunTls.create(spec.tls);
  return tls === null ? null : { proxy: spec.proxy, tls: new BunWireTls(tls), http2: spec.tls.http2 ? "alpn" : "off" };
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
 * - HTTP/1.1, h2c and TLS ({@link listenPathOpening}): served there with tako's HTTP/1.1 codec
 *   (`core/http1/`) and tako's HTTP/2 codec (`core/http2/`, `H2Conn`: h2c from the first
 *   byte, or chosen by the client preface when HTTP/1.1 shares the port; over TLS chosen by
 *   ALPN, `h2` offered first unless HTTP/2 is off) with every policy of the lifecycle kernel;
 *   a WebSocket upgrade on HTTP/1.1 hands the socket to the `ws` package (`H1Conn`, `WsBridge`);
 *   with `proxyProtocol` the PROXY header is read first (`core/proxy-protocol/`'s reader,
 *   `proxyReadTimeout`); over TLS each socket is upgraded in place (`upgradeTLS`,
 *   {@link BunTls}: SNI resolvers and reloads included; after a PROXY header with the bytes that
 *   followed it as `initialData`) and `tlsHandshakeTimeout` bounds the handshake. Nothing moves,
 *   so no connect is ever refused between bind and the drain. Measured (bench/http, GET /,
 *   2026-11-30): h2c 1.47× and h2 over TLS 1.26× raw `Bun.serve`, where Bun's node:http2 on the
 *   node:net path served h2c at 0.24× (docs/benchmarks.md).
 * - TLS with a resolver that has no synchronous answer for clients without SNI (`upgradeTLS`
 *   needs a certificate up front): the port moves to a node:net listener (Bun's) in the same turn,
 *   served by the Node engine's transports (the node:net path).
 *
 * When the port moves, the connections `Bun.listen` had taken before are closed; from the moment
 * `serve` returns, connects reach the new listener.
 *
 * Bun.serve is not used: it shows no connection to JavaScript, so neither the connection cap nor
 * a deadline on a slowly dripped head can be kept there (measured, Bun 1.4.5; see
 * docs/runtime-coverage.md).
 */
class BunListener implements EngineListener {
  /** The `Bun.listen` socket bound at `bind`; served on by the HTTP/1.1 path, given up by the others. */
  readonly #h1: H1Server;
  readonly #local: SocketAddr;
  readonly #target: BindTarget;
  #net: NodeListener | null = null;
  #listen: H1Server | null = null;

  constructor(h1: H1Server, target: BindTarget) {
    this.#h1 = h1;
    this.#local = h1.local;
    this.#target = target;
  }

  localAddr(): SocketAddr {
    return this.#local;
  }

  serve(spec: ServeSpec): Serving {
    if (spec.explicit.has("acceptBackoff")) throw new TakoError("TAKO_ERR_UNSUPPORTED", ACCEPT_BACKOFF);
    const opening = listenPathOpening(spec);
    if (opening !== null) {
      this.#listen = this.#h1;
      return this.#h1.serve(spec.router, spec.config, opening);
    }
    return this.#toNetPath(spec);
  }

  /**
   * Hands the port to a node:net listener in this turn and serves `spec` there. A Unix socket
   * file is this listener's own: removed and bound again in the same turn (connects in between
   * are refused).
   */
  #toNetPath(spec: ServeSpec): Serving {
    this.#h1.abandon();
    const server = createNetServer({ noDelay: true });
    const lifecycle = new Lifecycle<Socket>();
    server.once("error", (error) => lifecycle.fail(error));
    const target = this.#target;
    if (target.kind === "unix") {
      removeSocketFile(target.path);
      const mode = (): void => {
        try {
          applyMode(target);
        } catch (error) {
          lifecycle.fail(error);
        }
      };
      server.once("listening", mode);
      server.listen({ path: target.path });
      // Bun's node:net binds within listen() (measured) but reports it a tick later, after
      // spawn* has returned: the mode is set now, before anything is served.
      if (server.listening || existsSync(target.path)) mode();
    } else if (target.kind === "tcp" && target.reusePort) {
      server.listen({ host: this.#local.address, port: this.#local.port, exclusive: true, reusePort: true });
    } else server.listen({ host: this.#local.address, port: this.#local.port, exclusive: true });
    this.#net = new NodeListener(new NodeAcceptor(server, lifecycle), { emulated: true });
    return this.#net.serve(spec);
  }

  close(): Promise<void> {
    if (this.#net !== null) return this.#net.close();
    if (this.#listen !== null) {
      this.#listen.lifecycle.forceClose();
      return this.#listen.lifecycle.closed;
    }
    this.#h1.abandon();
    return Promise.resolve();
  }
}

/** Removes a Unix socket file this listener bound (in the turn another server binds it again); an abstract name has none. */
function removeSocketFile(path: string): void {
  if (path.startsWith("\0")) return;
  try {
    unlinkSync(path);
  } catch {
    // Bun removed it when its server stopped
  }
}

export const bunEngine: Engine = {
  runtime: "bun",
  /**
   * TCP and Unix paths: `Bun.listen` ({@link H1Server}), bound now, `reusePort` included
   * (`SO_REUSEPORT`). An inherited descriptor: the node:net path ({@link H1Server} binds
   * addresses and paths only).
   */
  async bind(target) {
    if (target.kind === "fd") return bindNodeListener(target, { emulated: true });
    const h1 = bunH1Server(target.kind === "unix" ? { path: target.path } : { host: target.host, port: target.port, reusePort: target.reusePort });
    if (target.kind === "unix") {
      try {
        applyMode(target);
      } catch (error) {
        h1.abandon();
        throw error;
      }
    }
    return new BunListener(h1, target);
  },
  /** HTTP/3: Bun.serve's own QUIC stack, HTTP/3 only on the UDP port (see `h3.ts`). */
  async serveH3(spec) {
    return serveBunH3(spec);
  },
  onSignals: nodeEngine.onSignals,
};
