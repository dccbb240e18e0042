import type { ServerConfig } from "../../core/config.ts";
import type { AnyRequest, FetchObserver } from "../../core/router/types.ts";

/**
 * Fields a native Fetch server cannot honour: set explicitly, they move the server to the
 * runtime's node:net path, where the shared acceptor enforces them. Neither Bun.serve
 * nor Deno.serve exposes connection hooks; Deno.serve also keeps a connection open after a
 * `Connection: close` response (measured), so `keepAlive: false` needs the node:net path there.
 */
const SOCKET_PATH_FIELDS: Record<"bun" | "deno", readonly (keyof ServerConfig)[]> = {
  bun: ["headerReadTimeout", "keepAliveTimeout", "maxConnections", "acceptBackoff"],
  deno: ["headerReadTimeout", "keepAliveTimeout", "maxConnections", "acceptBackoff", "keepAlive"],
};

/** The first field in `explicit` that the runtime's native server cannot honour, or `null`. */
export function netPathField(explicit: ReadonlySet<keyof ServerConfig>, runtime: "bun" | "deno"): keyof ServerConfig | null {
  return SOCKET_PATH_FIELDS[runtime].find((f) => explicit.has(f)) ?? null;
}

const unavailable = (): Response =>
  new Response("Service Unavailable: server is shutting down", { status: 503, headers: { connection: "close", "content-type": "text/plain; charset=utf-8" } });

/**
 * Drain state for engines whose native server speaks Fetch, handed to `router.handleFetch` as
 * its observer: marks responses `Connection: close` once keep-alive is off or a drain began,
 * and, where the runtime cannot destroy a connection, answers still-pending handlers with 503
 * at the drain deadline.
 */
export class FetchDrain implements FetchObserver {
  /** Responses carry `Connection: close` while this is set. */
  closing = false;
  /** A failed streamed body was reported to the router: the runtime need not log it again. */
  readonly quietStreamErrors = true;
  /** Resolvers of responses still being produced (only when `cutPending` was asked for). */
  readonly pending: Set<(response: Response) => void> | undefined;

  /** `cutPending`: track pending responses so `force()` can answer them (Deno). */
  constructor(cutPending: boolean) {
    this.pending = cutPending ? new Set() : undefined;
  }

  readonly finish = (response: Response, req: AnyRequest, streamed: boolean): Response => {
    this.onResponse(req, streamed);
    if (!this.closing) return response;
    try {
      response.headers.set("connection", "close");
      return response;
    } catch {
      // Immutable headers (e.g. Response.redirect): copy them into a new response.
      const headers = new Headers(response.headers);
      headers.set("connection", "close");
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }
  };

  /** Engines: called with every response before it is sent. */
  protected onResponse(_req: AnyRequest, _streamed: boolean): void {}

  /** The drain deadline: every pending response is answered 503 now. */
  force(): void {
    this.closing = true;
    if (this.pending === undefined) return;
    for (const resolve of this.pending) resolve(unavailable());
    this.pending.clear();
  }
}
