import type { ConnInfo } from "../../core/conn-info.ts";
import { FetchRequest } from "../../core/fetch-request.ts";
import type { Dispatcher } from "../../core/router/router.ts";
import type { BoundSocket, Engine, Serving, SocketAddr } from "../../server/engine.ts";

/** The part of Bun's API this engine uses (declared here so no Bun types leak elsewhere). */
interface BunSocketAddress {
  address: string;
  port: number;
  family: "IPv4" | "IPv6";
}
interface BunServer {
  readonly port: number;
  readonly hostname: string;
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

/** Connection facts of a Bun request, read from the server when a handler asks. */
class BunConnInfo implements ConnInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly httpVersion = "1.1" as const;
  readonly tls = null;
  readonly proxy = null;
  constructor(server: BunServer, request: Request, local: SocketAddr) {
    const peer = server.requestIP(request);
    this.remoteAddress = peer?.address ?? "";
    this.remotePort = peer?.port ?? 0;
    this.localAddress = local.address;
    this.localPort = local.port;
  }
}

class BunRequest extends FetchRequest {
  readonly #server: BunServer;
  readonly #local: SocketAddr;
  #info: ConnInfo | null = null;
  constructor(native: Request, server: BunServer, local: SocketAddr) {
    super(native, undefined as unknown as ConnInfo);
    this.#server = server;
    this.#local = local;
  }
  override get conn(): ConnInfo {
    return (this.#info ??= new BunConnInfo(this.#server, this.raw, this.#local));
  }
}

function familyOf(address: string): "IPv4" | "IPv6" {
  return address.includes(":") ? "IPv6" : "IPv4";
}

const SERVER_ERROR = (): Response => new Response("Internal Server Error", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });

/**
 * Bun engine: `Bun.serve` is started at bind time (it binds and listens in one step) with a
 * fetch handler that waits until a router is attached, so binding first works as on Node.
 */
class BunBoundSocket implements BoundSocket {
  readonly #server: BunServer;
  readonly #local: SocketAddr;
  #router: Dispatcher | null = null;
  #attached: Promise<void>;
  #attach!: () => void;
  #closed: Promise<void>;
  #finish!: () => void;
  #closing: Promise<void> | null = null;

  constructor(bun: BunApi, host: string, port: number) {
    this.#attached = new Promise((resolve) => (this.#attach = resolve));
    this.#closed = new Promise((resolve) => (this.#finish = resolve));
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
    this.#local = { address: host, port: this.#server.port, family: familyOf(host) };
  }

  #dispatch(router: Dispatcher, request: Request, server: BunServer): Response | Promise<Response> {
    return router.handleFetch(new BunRequest(request, server, this.#local));
  }

  localAddr(): SocketAddr {
    return this.#local;
  }

  serveHttp(router: Dispatcher): Serving {
    this.#router = router;
    this.#attach();
    return { closed: this.#closed };
  }

  close(): Promise<void> {
    this.#closing ??= this.#server.stop(true).then(() => this.#finish());
    return this.#closing;
  }
}

export const bunEngine: Engine = {
  runtime: "bun",
  async bind(host, port) {
    const bun = (globalThis as unknown as { Bun: BunApi }).Bun;
    return new BunBoundSocket(bun, host, port);
  },
};
