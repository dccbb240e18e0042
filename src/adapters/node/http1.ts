import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { ServerConfig } from "../../core/config.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import type { Socket } from "node:net";
import { Deadline, http1Deadlines } from "../shared/deadline.ts";
import { BUSY_HTTP1, refuseWith } from "./acceptor.ts";
import { NodeRequest, refusedHead } from "./request.ts";
import { send, type SendContext } from "./send.ts";
import type { Transport } from "./transport.ts";

/** How often idle connections are swept while a drain waits for in-flight requests. */
const DRAIN_SWEEP_MS = 50;

/**
 * node:http's options for `config`: on Node, node:http enforces the HTTP/1.1 deadlines itself
 * (native, no per-request JS): its header timeout (408) and keep-alive timer. Runtimes that
 * emulate node:http ignore these, and {@link connectionTimers} enforces the same deadlines.
 */
function httpOptions(config: ServerConfig): Parameters<typeof createServer>[0] {
  const header = config.headerReadTimeout;
  return {
    // 408 + close when the head is not complete in time (node checks every interval).
    headersTimeout: header ?? 0,
    requestTimeout: 0,
    connectionsCheckingInterval: header === null ? 30_000 : Math.max(10, Math.min(1000, Math.floor(header / 4))),
    keepAliveTimeout: config.keepAliveTimeout ?? 0,
  };
}

/** How the node:net path runs: on Node itself, or on Bun's or Deno's emulation of it. */
export interface NetPathOptions {
  /**
   * `true` on Bun and Deno. Their node:http ignores node's `headersTimeout`/`keepAliveTimeout`,
   * so tako enforces `headerReadTimeout` and `keepAliveTimeout` with its own per-connection
   * timers; and their node:http2 reads a handed-over socket through its stream interface, so a
   * socket whose first bytes were put back must be resumed (Node's reads them itself).
   */
  readonly emulated: boolean;
}

/** The HTTP/1.1 transport: node:http fed accepted connections, with tako's drain. */
export function http1Transport(router: Dispatcher, config: ServerConfig, options: NetPathOptions): Transport {
  const ctx: SendContext = { router, closeAfterResponse: !config.keepAlive };
  const http: HttpServer = createServer(httpOptions(config), (req: IncomingMessage, res: ServerResponse) => {
    const request = new NodeRequest(req);
    const result = refusedHead(req) ?? router.dispatch(request);
    if (result instanceof Promise) {
      result.then(
        (value) => send(res, value, request, ctx),
        (error: unknown) => send(res, router.recover(error, request), request, ctx),
      );
    } else send(res, result, request, ctx);
  });
  // node:http starts its connection tracking (header timeouts, idle list) on "listening"; the
  // listening socket is the acceptor's, so announce it once.
  http.emit("listening");
  const timers = options.emulated ? connectionTimers(http, config) : null;
  let sweep: ReturnType<typeof setInterval> | null = null;
  return {
    handOff: "flowing",
    refuse: (socket) => refuseWith(socket, BUSY_HTTP1),
    accept(socket) {
      timers?.accepted(socket);
      http.emit("connection", socket);
    },
    drain() {
      if (sweep !== null) return;
      ctx.closeAfterResponse = true;
      http.closeIdleConnections();
      // A connection whose response was already under way when the drain began goes idle
      // after it; sweep until every connection is gone.
      sweep = setInterval(() => http.closeIdleConnections(), DRAIN_SWEEP_MS);
    },
    close() {
      if (sweep !== null) clearInterval(sweep);
      http.close();
    },
  };
}

const REQUEST_TIMEOUT = "HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

/**
 * The HTTP/1.1 deadlines ({@link http1Deadlines}) kept by tako, one {@link Deadline} per
 * connection: the first request head must be complete in time (else 408 and close); after its
 * last response a connection must complete its next head in time, else it is closed.
 */
function connectionTimers(http: HttpServer, config: ServerConfig): { accepted(socket: Socket): void } {
  const state = new Map<Socket, { deadline: Deadline; busy: number }>();
  const { firstHead, nextHead } = http1Deadlines(config);
  http.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const s = state.get(socket);
    if (s === undefined) return;
    s.busy++;
    s.deadline.clear();
    res.once("close", () => {
      if (--s.busy === 0 && !socket.destroyed) s.deadline.arm(nextHead, () => socket.destroy());
    });
  });
  return {
    accepted(socket) {
      const deadline = new Deadline();
      state.set(socket, { deadline, busy: 0 });
      socket.once("close", () => {
        deadline.clear();
        state.delete(socket);
      });
      deadline.arm(firstHead, () => {
        socket.end(REQUEST_TIMEOUT);
        setTimeout(() => socket.destroy(), 1000).unref();
      });
    },
  };
}
