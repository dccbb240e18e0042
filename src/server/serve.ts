import type { Router } from "../core/router/router.ts";
import { Server } from "./builder.ts";
import type { TcpListener } from "./listener.ts";

/**
 * Serves `router` over HTTP/1.1 (keep-alive, streamed bodies) on `listener` with the default
 * {@link ServerConfig}: `Server.builder().build().spawnHttp(listener, router).join()`. In a server
 * process it never resolves; use the builder for a handle that can stop it gracefully.
 */
export function serve<S>(listener: TcpListener, router: Router<S>): Promise<void> {
  return Server.builder().build().spawnHttp(listener, router).join();
}
