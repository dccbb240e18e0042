import type { Socket } from "node:net";
import { SocketConnInfo, type ConnInfo } from "../../core/conn-info.ts";
import { FetchRequest } from "../../core/fetch-request.ts";
import { HEAD_PROBLEMS, isValidHost, refuseHead } from "../../core/request-rules.ts";
import { errorReply } from "../../core/responder.ts";
import type { AnyRequest, Dispatcher } from "../../core/router/types.ts";
import type { Engine, EngineListener, ServeSpec, Serving, SocketAddr } from "../engine.ts";
import { FetchDrain, netPathField } from "../shared/fetch-drain.ts";
import { Lifecycle } from "../shared/lifecycle.ts";
import { moveToNetPath, nodeEngine } from "../node/node-engine.ts";

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

  /**
   * Bun.serve builds the request URL from the Host header and drops the authority of an
   * absolute-form target (`GET http://evil.example/x` with `Host: good.example` gives
   * `http://good.example/x`; measured, Bun 1.4.5): the target's authority is not available here,
   * so Host stands. A known gap, stated in the runtime coverage table.
   */
  protected override targetAuthority(): string | null {
    return null;
  }
}

/** Set by {@link scanValue} while `headers.forEach` runs (synchronously): no closure per request. */
let controlChar = false;
function scanValue(value: string): void {
  if (value.includes("\x7f")) controlChar = true;
}

/**
 * What Bun.serve's parser lets through and HTTP/1.1 forbids (measured, Bun 1.4.5): a Host that
 * is not host[:port] (`a b`, `a/b`), two Host lines (handlers saw `a.example, b.example`,
 * which fails the syntax check on the space), and DEL (0x7f) in a header value (RFC 9110 §5.5;
 * Bun refuses the other control characters itself). The refusal, or `null`.
 *
 * This is the one per-request cost tako adds on Bun.serve: the headers object (built by Bun on
 * first use; a handler or a body read would build it anyway), one `get`, the Host compared with
 * the last valid one, and one `includes` per header value.
 */
function refusedHead(request: Request): Response | null {
  const headers = request.headers;
  const host = headers.get("host");
  if (host !== null && !isValidHost(host)) return errorReply(refuseHead(400, HEAD_PROBLEMS.invalidHost)).intoResponse();
  controlChar = false;
  headers.forEach(scanValue);
  if (controlChar) return errorReply(refuseHead(400, HEAD_PROBLEMS.controlChar)).intoResponse();
  return null;
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
 * handler that waits until a router is attached, so binding first works as on Node. A spec
 * that needs what Bun.serve lacks moves to Bun's node:net (the Node engine's transports) on the
 * same port.
 */
class BunListener implements EngineListener {
  readonly #server: BunServer;
  readonly #local: SocketAddr;
  readonly #drain = new BunDrain(false);
  readonly #lifecycle = new Lifecycle<Socket>();
  #router: Dispatcher | null = null;
  readonly #attached: Promise<void>;
  #attach!: () => void;
  #stopped: Promise<void> | null = null;
  /** The listener moved to Bun's node:net; Bun.serve is gone. */
  #moved = false;

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
    const refused = refusedHead(request);
    if (refused !== null) return refused;
    const result = router.handleFetch(new BunRequest(request, server, this.#local), this.#drain);
    if (result instanceof Promise) server.timeout(request, 0); // a handler at work (see BunDrain)
    return result;
  }

  localAddr(): SocketAddr {
    return this.#local;
  }

  /**
   * HTTP/1.1 on Bun.serve, unless the spec needs the raw socket or a hook Bun.serve lacks (the
   * PROXY header, the fields `netPathField` lists). h2c and TLS always take the node:net path:
   * Bun.serve's HTTP/2 has fixed limits and no flood defence, and its TLS offers no h2 by
   * ALPN, accepts two CBC suites and tells handlers nothing of the connection (all measured),
   * so neither can carry tako's policy or `req.conn.tls`.
   */
  serve(spec: ServeSpec): Serving {
    if (spec.protocol !== "http1" || spec.proxy.mode !== "off" || netPathField(spec.explicit, "bun") !== null) return this.#moveToNetPath(spec);
    this.#router = spec.router;
    this.#attach();
    if (!spec.config.keepAlive) this.#drain.closing = true;
    const lifecycle = this.#lifecycle;
    const closed = (): void => lifecycle.listenerClosed();
    lifecycle.start({
      stopAccepting: () => void this.#stop(false).then(closed),
      drainConnections: () => {
        this.#drain.closing = true;
      },
      destroyConnections: () => void this.#stop(true).then(closed),
    });
    return lifecycle;
  }

  /**
   * `stop(false)` refuses new connects, closes idle connections, and resolves after the last
   * response; `stop(true)` also closes active ones.
   */
  #stop(force: boolean): Promise<void> {
    if (force) return this.#server.stop(true);
    this.#stopped ??= this.#server.stop(false);
    return this.#stopped;
  }

  /** Moves this listener to Bun's node:net on the same port; the kernel replays what was asked meanwhile. */
  #moveToNetPath(spec: ServeSpec): Serving {
    this.#moved = true;
    return moveToNetPath(this.#stop(true), this.#local, this.#lifecycle, spec);
  }

  close(): Promise<void> {
    if (this.#moved) {
      this.#lifecycle.forceClose();
      return this.#lifecycle.closed;
    }
    return this.#stop(true).then(() => this.#lifecycle.listenerClosed());
  }
}

export const bunEngine: Engine = {
  runtime: "bun",
  async bind(host, port) {
    const bun = (globalThis as unknown as { Bun: BunApi }).Bun;
    return new BunListener(bun, host, port);
  },
  onSignals: nodeEngine.onSignals,
};
