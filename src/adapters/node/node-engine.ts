import nodeCluster from "node:cluster";
import { createServer as createNetServer } from "node:net";
import { TakoError } from "../../core/errors.ts";
import type { BindTarget, Engine, EngineListener, ServeSpec, Serving, SocketAddr } from "../engine.ts";
import { applyMode } from "../shared/socket-file.ts";
import { NodeAcceptor } from "./acceptor.ts";
import { h2Transport } from "./h2.ts";
import { http1Transport, type NetPathOptions } from "./http1.ts";
import { proxyTransport } from "./proxy-transport.ts";
import { serveH3WithAddon } from "./h3.ts";
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
      const h2 = h2Transport(router, config, options.served);
      return spec.http1 ? sniffingTransport(http1Transport(router, config, options), h2, config) : h2;
    }
    case "tls":
      return tlsTransport(router, config, spec.tls, options);
  }
}

/**
 * A node:net listener serving tako's transports: how Node.js serves every spec. Connections
 * reach node:http / node:http2 / node:tls by `emit("connection")`, the entry node:http uses for
 * its own listener, so parsing and its error answers (400, 431, 413 …) are the runtime's.
 * Every `ServerConfig` field is honoured here, so `spec.explicit` changes nothing.
 */
export class NodeListener implements EngineListener {
  readonly #acceptor: NodeAcceptor;

  constructor(acceptor: NodeAcceptor) {
    this.#acceptor = acceptor;
  }

  localAddr(): SocketAddr {
    return this.#acceptor.localAddr();
  }

  /** Every transport, behind the PROXY protocol reader when the builder asked for it. */
  serve(spec: ServeSpec): Serving {
    const served = servedState();
    const transport = transportFor(spec, { served });
    const { mode, onBadCrc } = spec.proxy;
    return serveTransport(this.#acceptor, mode === "off" ? transport : proxyTransport(transport, mode, spec.config, onBadCrc), spec.config, served);
  }

  close(): Promise<void> {
    this.#acceptor.stopAccepting();
    this.#acceptor.destroyAll();
    return this.#acceptor.lifecycle.closed;
  }
}

/** True on Node.js itself (guards the Node-only refusals when this module runs elsewhere). */
function onNode(): boolean {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Bun === undefined && g.Deno === undefined;
}

/**
 * Whether this Node's node:net sets `SO_REUSEPORT` (`listen({ reusePort })`: Node 22.12 and
 * 23.1 on). Node 20 has no such option and would bind without it, so the second server would
 * fail with EADDRINUSE: refused instead. Bun's and Deno's node:net have it.
 */
export function netHasReusePort(): boolean {
  if (!onNode()) return true;
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/**
 * Node's libuv (1.46 in Node 20) binds a Linux abstract name padded with NUL bytes to the full
 * `sun_path` (measured: /proc/net/unix shows the name followed by 90 NULs), so a client that
 * connects to the name itself (curl `--abstract-unix-socket`, socat, Bun, Deno) is refused.
 */
function refuseAbstractOnNode(target: BindTarget): void {
  if (target.kind === "unix" && target.path.startsWith("\0") && onNode()) {
    throw new TakoError(
      "TAKO_ERR_UNSUPPORTED",
      `UnixListener.bind("@${target.path.slice(1)}") on Node.js: Node's libuv binds an abstract name padded with NUL bytes to 108 bytes, so clients that connect to the name (curl --abstract-unix-socket, socat, other runtimes) cannot reach it; use a socket path on Node, or an abstract name on Bun or Deno`,
    );
  }
  if (target.kind === "tcp" && target.reusePort && !netHasReusePort()) {
    throw new TakoError(
      "TAKO_ERR_UNSUPPORTED",
      `TcpListener.bind(addr, { reusePort: true }) on Node.js ${process.versions.node}: node:net has no reusePort before Node 22.12 / 23.1, so a second server on the port would fail; run one process per port on this Node, or use Bun or Deno`,
    );
  }
}

/**
 * node:net `listen()` options for `target`. In a node:cluster worker a TCP listener is not
 * exclusive, so the primary holds the port and hands it connections; with `reusePort` every
 * process binds its own socket.
 */
function listenOptions(target: BindTarget): { host?: string; port?: number; exclusive?: boolean; reusePort?: boolean; path?: string; fd?: number } {
  switch (target.kind) {
    case "tcp":
      return target.reusePort
        ? { host: target.host, port: target.port, exclusive: true, reusePort: true }
        : { host: target.host, port: target.port, exclusive: !nodeCluster.isWorker };
    case "unix":
      return { path: target.path };
    case "fd":
      return { fd: target.fd };
  }
}

/** Binds a node:net listener on `target`. */
export function bindNodeListener(target: BindTarget): Promise<NodeListener> {
  return new Promise((resolve, reject) => {
    refuseAbstractOnNode(target);
    const server = createNetServer({ noDelay: true });
    server.once("error", reject);
    server.listen(listenOptions(target), () => {
      server.off("error", reject);
      try {
        if (target.kind === "unix") applyMode(target);
      } catch (error) {
        server.close();
        return reject(error);
      }
      resolve(new NodeListener(new NodeAcceptor(server)));
    });
  });
}

export const nodeEngine: Engine = {
  runtime: "node",
  bind: (target) => bindNodeListener(target),
  serveH3: (spec) => serveH3WithAddon(spec, "Node.js"),
  onSignals(signals, handler) {
    const listener = (signal: string): void => handler(signal);
    for (const s of signals) process.once(s, listener);
    return () => {
      for (const s of signals) process.off(s, listener);
    };
  },
};
