import type { Router } from "../core/router/router.ts";
import type { TcpListener } from "./listener.ts";

/**
 * Serves `router` over HTTP/1.1 (keep-alive, streamed bodies) on `listener`. The promise
 * resolves when the listener is closed; in a server process it simply never resolves.
 */
export function serve<S>(listener: TcpListener, router: Router<S>): Promise<void> {
  return listener.take().serveHttp(router).closed;
}
