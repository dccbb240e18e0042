import type { WireSocket } from "../wire/socket.ts";
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

/**
 * A TCP or Unix socket of `Bun.listen` (the members the HTTP/1.1 path uses): a {@link WireSocket}
 * as it is (`write` returns the bytes the kernel took; the rest waits for `drain`), plus Bun's own.
 */
export interface BunSocket<D> extends WireSocket {
  /** The per-connection value the handlers see; set in `open`. */
  data: D;
  /**
   * Starts TLS on this socket, server side when `tls` has a certificate and key (measured on a
   * `Bun.listen` socket, Bun 1.4.5). The bytes read from then on go to the TLS socket (this
   * socket's `data` handler still sees the ciphertext). Throws a `TypeError` for a bad option.
   */
  upgradeTLS<T>(options: {
    readonly data: T;
    readonly tls: BunTlsConfig;
    readonly socket: BunTlsHandlers<T>;
    /** Bytes already read from this socket that belong to TLS (a ClientHello after a PROXY header): read first (measured, Bun 1.4.5; its node:tls uses it). */
    readonly initialData?: Uint8Array;
  }): [BunSocket<D>, BunTlsSocket<T>];
}

/**
 * Server-side TLS settings of `upgradeTLS` (the ones tako passes). Bun takes the minimum version
 * as OpenSSL's number (`0x0303` is TLS 1.2) and ALPN in wire form (length-prefixed names).
 */
export interface BunTlsConfig {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  /** Ask the client for a certificate. */
  readonly requestCert: boolean;
  /** Bun 1.4.5 completes the handshake with an unverified client certificate even when set (measured): the caller checks `authorized`. */
  readonly rejectUnauthorized: boolean;
  /** OpenSSL cipher list (TLS 1.2 suites and TLS 1.3 suites by name). */
  readonly ciphers: string;
  readonly minVersion: number;
  readonly ALPNProtocols: Uint8Array;
}

/** A TLS socket made by `upgradeTLS` (the members the HTTP/1.1 path reads after the handshake). */
export interface BunTlsSocket<D> extends BunSocket<D> {
  /** The protocol ALPN chose; `false` (or `null`) without one. */
  readonly alpnProtocol: string | false | null;
  /** The client certificate verified against the configured CA. */
  readonly authorized: boolean;
  getServername(): string | undefined;
  getTLSVersion(): string | null;
  getCipher(): { readonly name?: string; readonly standardName?: string } | null;
  /** With `true`: the certificate with its DER bytes (`raw`); empty or missing without one. */
  getPeerCertificate(detailed: true): { readonly raw?: Uint8Array } | null | undefined;
}

/** The handlers of a TLS socket: the socket's, and the handshake's outcome. */
export interface BunTlsHandlers<D> extends BunSocketHandlers<D> {
  /** The handshake ended: `success` false when it failed (an alert was sent, or the peer left). */
  handshake(socket: BunTlsSocket<D>, success: boolean, error: Error | null): void;
}

/** The socket handlers `Bun.listen` calls. */
export interface BunSocketHandlers<D> {
  open?(socket: BunSocket<D>): void;
  data(socket: BunSocket<D>, chunk: Uint8Array): void;
  /** The kernel takes writes again after a short `write`. */
  drain(socket: BunSocket<D>): void;
  /** The peer sent FIN. */
  end(socket: BunSocket<D>): void;
  close(socket: BunSocket<D>, error?: Error): void;
  error(socket: BunSocket<D>, error: Error): void;
}

/** `Bun.listen` options: TCP (`hostname`, `port`) or a Unix socket (`unix`). */
export type BunListenOptions<D> = { readonly socket: BunSocketHandlers<D> } & (
  | { readonly hostname: string; readonly port: number; readonly reusePort?: boolean; readonly exclusive?: boolean }
  | { readonly unix: string }
  /** A listening socket this process inherited (undocumented, measured on Bun 1.4.5: TCP and Unix; anything else throws). */
  | { readonly fd: number }
);

/** What `Bun.listen` returns. */
export interface BunTcpListener {
  readonly port: number;
  readonly hostname: string;
  /** Fills `out` with the bound address (a host name given to `listen` resolved). */
  getsockname(out: { family?: string; address?: string; port?: number }): void;
  /** Stops listening; `closeActiveConnections`: also closes every connection now. */
  stop(closeActiveConnections?: boolean): void;
}

/** `Bun.listen`, binding synchronously (throws when the address is taken). */
export const bunListen = <D>(options: BunListenOptions<D>): BunTcpListener =>
  (globalThis as unknown as { Bun: { listen<T>(o: BunListenOptions<T>): BunTcpListener } }).Bun.listen(options);
