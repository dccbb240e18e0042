import type { ConnInfo } from "../../core/conn-info.ts";
import { FetchRequest } from "../../core/fetch-request.ts";
import type { Dispatcher } from "../../core/router/router.ts";
import type { BoundSocket, Engine, Serving, SocketAddr } from "../../server/engine.ts";

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
  onListen?(addr: DenoNetAddr): void;
  onError?(error: unknown): Response;
  handler(request: Request, info: DenoServeInfo): Response | Promise<Response>;
}
interface DenoApi {
  serve(options: DenoServeOptions): DenoHttpServer;
}

class DenoConnInfo implements ConnInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly httpVersion = "1.1" as const;
  readonly tls = null;
  readonly proxy = null;
  constructor(info: DenoServeInfo, local: SocketAddr) {
    this.remoteAddress = info.remoteAddr.hostname;
    this.remotePort = info.remoteAddr.port;
    this.localAddress = local.address;
    this.localPort = local.port;
  }
}

class DenoRequest extends FetchRequest {
  readonly #info: DenoServeInfo;
  readonly #local: SocketAddr;
  #conn: ConnInfo | null = null;
  constructor(native: Request, info: DenoServeInfo, local: SocketAddr) {
    super(native, undefined as unknown as ConnInfo);
    this.#info = info;
    this.#local = local;
  }
  override get conn(): ConnInfo {
    return (this.#conn ??= new DenoConnInfo(this.#info, this.#local));
  }
}

const SERVER_ERROR = (): Response => new Response("Internal Server Error", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });

/**
 * Deno engine: `Deno.serve` binds and listens in one step, so it starts at bind time with a
 * handler that waits until a router is attached.
 */
class DenoBoundSocket implements BoundSocket {
  readonly #server: DenoHttpServer;
  readonly #local: SocketAddr;
  #router: Dispatcher | null = null;
  #attached: Promise<void>;
  #attach!: () => void;
  #closing: Promise<void> | null = null;

  constructor(deno: DenoApi, host: string, port: number) {
    this.#attached = new Promise((resolve) => (this.#attach = resolve));
    this.#server = deno.serve({
      hostname: host,
      port,
      onListen: () => {},
      onError: SERVER_ERROR,
      handler: (request, info) => {
        const router = this.#router;
        if (router === null) return this.#attached.then(() => this.#router!.handleFetch(new DenoRequest(request, info, this.#local)));
        return router.handleFetch(new DenoRequest(request, info, this.#local));
      },
    });
    const addr = this.#server.addr;
    this.#local = { address: addr.hostname, port: addr.port, family: addr.hostname.includes(":") ? "IPv6" : "IPv4" };
  }

  localAddr(): SocketAddr {
    return this.#local;
  }

  serveHttp(router: Dispatcher): Serving {
    this.#router = router;
    this.#attach();
    return { closed: this.#server.finished };
  }

  close(): Promise<void> {
    this.#closing ??= this.#server.shutdown();
    return this.#closing;
  }
}

export const denoEngine: Engine = {
  runtime: "deno",
  async bind(host, port) {
    const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
    return new DenoBoundSocket(deno, host, port);
  },
};
