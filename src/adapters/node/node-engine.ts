import nodeCluster from "node:cluster";
import { createServer as createNetServer, type Socket } from "node:net";
import type { Engine, EngineListener, ServeSpec, Serving, SocketAddr } from "../engine.ts";
import type { Lifecycle } from "../shared/lifecycle.ts";
import { NodeAcceptor } from "./acceptor.ts";
import { h2Transport } from "./h2.ts";
import { http1Transport, type NetPathOptions } from "./http1.ts";
import { proxyTransport } from "./proxy-transport.ts";
import { tlsTransport } from "./tls.ts";
import { serveTransport, sniffingTransport, type Transport } from "./transport.ts";
import { servedState } from "./request.ts";

/** The transport for `spec` on node:net connections: node:http, node:http2, node:tls. */
function transportFor(spec: ServeSpec, options: NetPathOptions): Transport {
  const { router, config } = spec;
  switch (spec.protocol) {
    case "http1":
      return http1Transport(router, config, options);
    case "h2c": {
      const h2 = h2Transport(router, config, options.emulated, options.served);
      return spec.http1 ? sniffingTransport(http1Transport(router, config, options), h2, config) : h2;
    }
    case "tls":
      return tlsTransport(router, config, spec.tls, options);
  }
}

/**
 * A node:net listener serving tako's transports. Node.js serves every spec this way; so do Bun
 * and Deno for specs their native servers cannot honour (their node:net path). Connections
 * reach node:http / node:http2 / node:tls by `emit("connection")`, the entry node:http uses for
 * its own listener, so parsing and its error answers (400, 431, 413 …) are the runtime's.
 * Every `ServerConfig` field is honoured here, so `spec.explicit` changes nothing.
 */
export class NodeListener implements EngineListener {
  readonly #acceptor: NodeAcceptor;
  readonly #options: NetPathOptions;

  constructor(acceptor: NodeAcceptor, options: NetPathOptions) {
    this.#acceptor = acceptor;
    this.#options = options;
  }

  localAddr(): SocketAddr {
    return this.#acceptor.localAddr();
  }

  /** Every transport, behind the PROXY protocol reader when the builder asked for it. */
  serve(spec: ServeSpec): Serving {
    const served = servedState();
    const transport = transportFor(spec, { ...this.#options, served });
    const { mode, onBadCrc } = spec.proxy;
    return serveTransport(this.#acceptor, mode === "off" ? transport : proxyTransport(transport, mode, spec.config, onBadCrc), spec.config, served);
  }

  close(): Promise<void> {
    this.#acceptor.stopAccepting();
    this.#acceptor.destroyAll();
    return this.#acceptor.lifecycle.closed;
  }
}

/**
 * Binds a node:net listener. `lifecycle`: the kernel to feed, when the engine handed out its
 * `Serving` before binding (Bun and Deno moving a listener to their node:net path).
 */
export function bindNodeListener(host: string, port: number, options: NetPathOptions = { emulated: false }, lifecycle?: Lifecycle<Socket>): Promise<NodeListener> {
  return new Promise((resolve, reject) => {
    const server = createNetServer({ noDelay: true });
    server.once("error", reject);
    server.listen({ host, port, exclusive: !nodeCluster.isWorker }, () => {
      server.off("error", reject);
      resolve(new NodeListener(new NodeAcceptor(server, lifecycle), options));
    });
  });
}

/**
 * Bun and Deno: serves `spec` on the runtime's node:net at `local` once `stopped` (the native
 * server has let go of the port) resolves, feeding `lifecycle`, which the engine has already
 * handed out as the `Serving` and which replays a drain asked for meanwhile. A failure (e.g. the
 * port taken in between) rejects `ready` and resolves `closed`.
 */
export function moveToNetPath(stopped: Promise<void>, local: SocketAddr, lifecycle: Lifecycle<Socket>, spec: ServeSpec): Serving {
  stopped
    .then(() => bindNodeListener(local.address, local.port, { emulated: true }, lifecycle))
    .then((listener) => listener.serve(spec))
    .catch((error: unknown) => lifecycle.fail(error));
  return lifecycle;
}

export const nodeEngine: Engine = {
  runtime: "node",
  bind: (host, port) => bindNodeListener(host, port),
  onSignals(signals, handler) {
    const listener = (signal: string): void => handler(signal);
    for (const s of signals) process.once(s, listener);
    return () => {
      for (const s of signals) process.off(s, listener);
    };
  },
};
