/**
 * The part of Bun's API the Bun engine's HTTP/3 path uses, declared here so no Bun types leak
 * elsewhere (the package is type-checked without `bun-types`).
 */

/** A peer address as `server.requestIP(request)` reports it. */
export interface BunSocketAddress {
  readonly address: string;
  readonly port: number;
  readonly family: "IPv4" | "IPv6";
}

/** What `Bun.serve` returns (the members used here). */
export interface BunServer {
  readonly port: number;
  readonly hostname: string;
  /** `false`: graceful (in-flight requests finish); `true`: every connection is closed now. Settles once the server has stopped. */
  stop(closeActiveConnections?: boolean): Promise<void>;
  requestIP(request: Request): BunSocketAddress | null;
}

/** The `Bun.serve` options the HTTP/3 path passes. */
export interface BunServeOptions {
  readonly hostname: string;
  readonly port: number;
  readonly tls: { readonly cert: string; readonly key: string };
  /** Serve HTTP/3 over QUIC on the UDP port of the same number (experimental in Bun 1.4). */
  readonly http3: true;
  /** `false`: no TCP listener at all, HTTP/3 only. */
  readonly http1: false;
  /** Seconds, 1..255; also the QUIC `max_idle_timeout` transport parameter (measured). Omitted: Bun's default. */
  readonly idleTimeout?: number;
  /** `false`: errors never become Bun's development page with a stack trace. */
  readonly development: false;
  fetch(request: Request, server: BunServer): Response | Promise<Response>;
  error(error: unknown): Response;
}

export interface BunApi {
  serve(options: BunServeOptions): BunServer;
}

export const bun = (): BunApi => (globalThis as unknown as { Bun: BunApi }).Bun;
