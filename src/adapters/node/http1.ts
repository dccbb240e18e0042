import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { ServerConfig } from "../../core/config.ts";
import type { Dispatcher } from "../../core/router/router.ts";
import type { Serving } from "../../server/engine.ts";
import type { NodeAcceptor } from "./listener.ts";
import { NodeRequest } from "./request.ts";
import { send, type SendContext } from "./send.ts";

/** How often idle connections are swept while a drain waits for in-flight requests. */
const DRAIN_SWEEP_MS = 50;

/** node:http's options for `config`: its own header timeout, keep-alive timer and sweep. */
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

/** HTTP/1.1 on node:http over connections from a {@link NodeAcceptor}. */
export function serveHttp1(acceptor: NodeAcceptor, router: Dispatcher, config: ServerConfig): Serving {
  const ctx: SendContext = { router, closeAfterResponse: !config.keepAlive };
  const http: HttpServer = createServer(httpOptions(config), (req: IncomingMessage, res: ServerResponse) => {
    const request = new NodeRequest(req);
    const result = router.handle(request);
    if (result instanceof Promise) result.then((value) => send(res, value, request, ctx));
    else send(res, result, request, ctx);
  });
  // node:http starts its connection tracking (header timeouts, idle list) on "listening"; the
  // listening socket is the acceptor's, so announce it once.
  http.emit("listening");
  acceptor.attach((socket) => http.emit("connection", socket), config.maxConnections, config.acceptBackoff);

  let sweep: ReturnType<typeof setInterval> | null = null;
  acceptor.closed.then(() => {
    if (sweep !== null) clearInterval(sweep);
    http.close();
  });
  return {
    closed: acceptor.closed,
    drain() {
      if (ctx.closeAfterResponse && sweep !== null) return;
      ctx.closeAfterResponse = true;
      acceptor.stopAccepting();
      http.closeIdleConnections();
      // A connection whose response was already under way when the drain began goes idle
      // after it; sweep until every connection is gone.
      sweep = setInterval(() => http.closeIdleConnections(), DRAIN_SWEEP_MS);
    },
    forceClose() {
      acceptor.stopAccepting();
      acceptor.destroyAll();
    },
  };
}
