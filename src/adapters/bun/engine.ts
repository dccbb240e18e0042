import { SocketConnInfo, type ConnInfo } from "../../core/conn-info.ts";
import type { ServerConfig } from "../../core/config.ts";
import { FetchRequest } from "../../core/fetch-request.ts";
import type { AnyRequest, Dispatcher } from "../../core/router/types.ts";
import type { BoundSocket, Engine, H2cOptions, ServeOptions, Serving, SocketAddr, TlsOptions } from "../../server/engine.ts";
import { deferredServing, FetchDrain, socketPathField } from "../../server/fetch-drain.ts";
import { bindNodeSocket, nodeEngine, type NodeBoundSocket } from "../node/engine.ts";

/** The part of Bun's API this engine uses (declared here so no Bun types leak elsewhere). */
interface BunSocketAddress {
  address: string;
  port: number;
  family: "IPv4" | "IPv6";
}
interface BunServer {
  readonly port: number;
  timeout(request: Request, seconds: number): void;
  stop(closeActiveConnections?: boolean): Promise<void>;
  requestIP(request: Request): BunSocketAddress | null;
}
interface BunServeOptions {
  hostname: string;
  port: number;
  reusePort?: boolean;
  fetch(request: Request, server: BunServer): Response | Promise<Response>;
  error?(error: Error): Response;
}
interface BunApi {
  serve(options: BunServeOptions): BunServer;
}

class BunRequest extends FetchRequest {
  /** Lifts Bun.serve's idle timeout for this request (see {@link BunDrain}). */
  liftIdleTimeout(): void {
    this.#server.timeout(this.raw, 0);
  }

  readonly #server: BunServer;
  readonly #local: SocketAddr;
  constructor(native: Request, server: BunServer, local: SocketAddr) {
    super(native, null);
    this.#server = server;
    this.#local = local;
  }
  protected override makeConn(): ConnInfo {
    const peer = this.#server.requestIP(this.raw);
    return new SocketConnInfo(peer?.address ?? "", peer?.port ?? 0, this.#local.address, this.#local.port);
  }
}

/**
 * Bun.serve's idle timeout (10 s) also runs while a handler works and while a streamed body
 * pauses, and cuts the request without a response or mid-body (both measured). A handler at
 * work or a stream in progress is not an idle connection: lift the timeout for those requests;
 * the drain deadline still bounds them.
 */
class BunDrain extends FetchDrain {
  protected override onResponse(req: AnyRequest, streamed: boolean): void {
    if (streamed) (req as unknown as BunRequest).liftIdleTimeout();
  }
}

const SERVER_ERROR = (): Response => new Response("Internal Server Error", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });

/**
 * Bun engine. `Bun.serve` starts at bind time (it binds and listens in one step) with a fetch
 * handler that waits until a router is attached, so binding first works as on Node. A config
 * that needs connection hooks Bun.serve lacks moves to Bun's node:net (the Node engine's
 * socket path) on the same port.
 */
class BunBoundSocket implements BoundSocket {
  readonly #server: BunServer;
  readonly #local: SocketAddr;
  readonly #drain = new BunDrain(false);
  #router: Dispatcher | null = null;
  readonly #attached: Promise<void>;
  #attach!: () => void;
  #stopped: Promise<void> | null = null;

  constructor(bun: BunApi, host: string, port: number) {
    this.#attached = new Promise((resolve) => (this.#attach = resolve));
    this.#server = bun.serve({
      hostname: host,
      port,
      reusePort: false,
      fetch: (request, server) => {
        const router = this.#router;
        if (router === null) return this.#attached.then(() => this.#dispatch(this.#router!, request, server));
        return this.#dispatch(router, request, server);
      },
      error: SERVER_ERROR,
    });
    this.#local = { address: host, port: this.#server.port, family: host.includes(":") ? "IPv6" : "IPv4" };
  }

  #dispatch(router: Dispatcher, request: Request, server: BunServer): Response | Promise<Response> {
    const result = router.handleFetch(new BunRequest(request, server, this.#local), this.#drain);
    if (result instanceof Promise) server.timeout(request, 0); // a handler at work (see BunDrain)
    return result;
  }

  localAddr(): SocketAddr {
    return this.#local;
  }

  serveHttp(router: Dispatcher, config: ServerConfig, explicit: ReadonlySet<keyof ServerConfig>, serve: ServeOptions): Serving {
    // The PROXY protocol is read from the raw socket, which only the socket path has.
    if (socketPathField(explicit, "bun") !== null || serve.proxyProtocol !== "off") {
      return this.#socketPath((s) => s.serveHttp(router, config, explicit, serve));
    }
    this.#router = router;
    this.#attach();
    if (!config.keepAlive) this.#drain.closing = true;
    const closed = new Promise<void>((resolve) => (this.#onStopped = resolve));
    return {
      ready: Promise.resolve(),
      closed,
      drain: () => {
        this.#drain.closing = true;
        void this.#stop(false);
      },
      forceClose: () => void this.#server.stop(true).then(() => this.#onStopped()),
    };
  }

  #onStopped: () => void = () => {};

  /** Bun's stop(false) refuses new connects, closes idle ones, and resolves after the last response. */
  #stop(force: boolean): Promise<void> {
    this.#stopped ??= this.#server.stop(force).then(() => this.#onStopped());
    return this.#stopped;
  }

  /**
   * h2c through the runtime's node:http2 on node:net sockets (the socket path), so the H2
   * fields are enforced by tako's HTTP/2 transport.
   */
  serveH2c(router: Dispatcher, config: ServerConfig, explicit: ReadonlySet<keyof ServerConfig>, options: H2cOptions, serve: ServeOptions): Serving {
    return this.#socketPath((s) => s.serveH2c(router, config, explicit, options, serve));
  }

  /**
   * TLS through the runtime's node:tls on node:net sockets (the socket path): Bun.serve's TLS
   * offers no h2 by ALPN, accepts two CBC suites, and tells handlers nothing of the connection
   * (measured), so it cannot carry tako's policy or `req.conn.tls`.
   */
  serveTls(router: Dispatcher, config: ServerConfig, explicit: ReadonlySet<keyof ServerConfig>, tls: TlsOptions, serve: ServeOptions): Serving {
    return this.#socketPath((s) => s.serveTls(router, config, explicit, tls, serve));
  }

  /** Moves this listener to Bun's node:net (the Node engine's socket path) on the same port. */
  #socketPath(start: (socket: NodeBoundSocket) => Serving): Serving {
    const { address, port } = this.#local;
    return deferredServing(this.#stop(true).then(() => bindNodeSocket(address, port, { emulated: true })).then(start));
  }

  close(): Promise<void> {
    return this.#server.stop(true).then(() => this.#onStopped());
  }
}

export const bunEngine: Engine = {
  runtime: "bun",
  async bind(host, port) {
    const bun = (globalThis as unknown as { Bun: BunApi }).Bun;
    return new BunBoundSocket(bun, host, port);
  },
  onSignals: nodeEngine.onSignals,
};
