import { createServer as createNetServer } from "node:net";
import type { ServerConfig } from "../../core/config.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import type { BoundSocket, Engine, H2cOptions, ServeOptions, Serving, SocketAddr, TlsOptions } from "../../server/engine.ts";
import { h2Transport } from "./h2.ts";
import { http1Transport, type SocketPathOptions } from "./http1.ts";
import { NodeAcceptor } from "./listener.ts";
import { tlsTransport } from "./tls.ts";
import { proxyTransport } from "./proxy.ts";
import { serveTransport, sniffingTransport, type Transport } from "./transport.ts";

/**
 * Node.js engine. The listener is a bare `net.Server` bound at `TcpListener.bind`; transports
 * take its connections by `emit("connection")`, the entry node:http uses for its own listener,
 * so llhttp parsing and its error answers (400, 431, 413 …) are Node's.
 */
export class NodeBoundSocket implements BoundSocket {
  readonly #acceptor: NodeAcceptor;
  readonly #options: SocketPathOptions;

  constructor(acceptor: NodeAcceptor, options: SocketPathOptions) {
    this.#acceptor = acceptor;
    this.#options = options;
  }

  localAddr(): SocketAddr {
    return this.#acceptor.localAddr();
  }

  /** node:http honours every field, so `explicit` changes nothing here. */
  serveHttp(router: Dispatcher, config: ServerConfig, _explicit: ReadonlySet<keyof ServerConfig>, serve: ServeOptions): Serving {
    return this.#serve(http1Transport(router, config, this.#options), config, serve);
  }

  /** node:http2 (nghttp2) honours every HTTP/2 field, so `explicit` changes nothing here. */
  serveH2c(router: Dispatcher, config: ServerConfig, _explicit: ReadonlySet<keyof ServerConfig>, options: H2cOptions, serve: ServeOptions): Serving {
    const h2 = h2Transport(router, config, this.#options.emulated);
    return this.#serve(options.http1 ? sniffingTransport(http1Transport(router, config, this.#options), h2, config) : h2, config, serve);
  }

  /** TLS on node:tls, then the HTTP/2 or HTTP/1.1 transport by ALPN; every field is honoured. */
  serveTls(router: Dispatcher, config: ServerConfig, _explicit: ReadonlySet<keyof ServerConfig>, tls: TlsOptions, serve: ServeOptions): Serving {
    return this.#serve(tlsTransport(router, config, tls, this.#options), config, serve);
  }

  /** Every transport, behind the PROXY protocol reader when the builder asked for it. */
  #serve(transport: Transport, config: ServerConfig, serve: ServeOptions): Serving {
    const mode = serve.proxyProtocol;
    return serveTransport(this.#acceptor, mode === "off" ? transport : proxyTransport(transport, mode, config, serve.proxyBadCrc), config);
  }

  close(): Promise<void> {
    this.#acceptor.stopAccepting();
    this.#acceptor.destroyAll();
    return this.#acceptor.closed;
  }
}

/**
 * Binds a node:net listener. This is also the Bun and Deno engines' socket path: both runtimes
 * implement node:net and node:http, so the same acceptor and lifecycle serve configs their
 * native servers cannot honour.
 */
export function bindNodeSocket(host: string, port: number, options: SocketPathOptions = { emulated: false }): Promise<NodeBoundSocket> {
  return new Promise((resolve, reject) => {
    const server = createNetServer({ noDelay: true });
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off("error", reject);
      resolve(new NodeBoundSocket(new NodeAcceptor(server), options));
    });
  });
}

export const nodeEngine: Engine = {
  runtime: "node",
  bind: (host, port) => bindNodeSocket(host, port),
  onSignals(signals, handler) {
    const listener = (signal: string): void => handler(signal);
    for (const s of signals) process.once(s, listener);
    return () => {
      for (const s of signals) process.off(s, listener);
    };
  },
};
