/**
 * The part of Deno's API the Deno engine uses, declared here so no Deno types leak elsewhere
 * (the package is type-checked without Deno's `lib.deno`).
 */

export interface DenoNetAddr {
  transport: "tcp";
  hostname: string;
  port: number;
}

/** A Unix socket address; `path` is `null` for the unnamed socket a client connects from. */
export interface DenoUnixAddr {
  transport: "unix";
  path: string | null;
}

/** An accepted connection (`Deno.Conn`, or `Deno.TlsConn` with `handshake`). */
export interface DenoConn {
  readonly localAddr: DenoNetAddr | DenoUnixAddr;
  readonly remoteAddr: DenoNetAddr | DenoUnixAddr;
  /** Reads into `into`; the byte count, or `null` at the end of the stream. */
  read(into: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  /** TLS only: completes the handshake; `alpnProtocol` is what ALPN chose (`null`: none). */
  handshake?(): Promise<{ alpnProtocol: string | null }>;
}

export interface DenoListener {
  readonly addr: DenoNetAddr | DenoUnixAddr;
  accept(): Promise<DenoConn>;
  close(): void;
}

/** What `Deno.serve`'s handler gets besides the request. */
export interface DenoServeInfo {
  readonly remoteAddr: DenoNetAddr;
  /** Settles once the response has been handed to the connection (rejects when it was not sent). */
  readonly completed: Promise<void>;
}

/** What `serveHttpOnConnection` returns: Deno's HTTP server on one connection. */
export interface DenoConnServer {
  /** Settles when the connection is closed. Rejects (Deno.errors.Http) on a protocol or TLS error. */
  readonly finished: Promise<void>;
  /** Graceful: HTTP/1.1 closes after the response in flight (at once when idle); HTTP/2 sends GOAWAY and waits for open streams. */
  shutdown(): Promise<void>;
}

export type DenoHandler = (request: Request, info: DenoServeInfo) => Response | Promise<Response>;

/**
 * `Deno[Deno.internal].serveHttpOnConnection(conn, signal, handler, onError, onListen)`:
 * Deno.serve's native HTTP/1.1 and HTTP/2 (hyper) on one accepted connection; aborting
 * `signal` closes the connection at once. Internal to Deno (present in 2.9.6; a test pins it).
 */
export type ServeOnConnection = (
  conn: DenoConn,
  signal: AbortSignal,
  handler: DenoHandler,
  onError: (error: unknown) => Response,
  onListen: (scheme: string) => void,
) => DenoConnServer;

export interface DenoApi {
  listen(options: { hostname: string; port: number; reusePort?: boolean } | { transport: "unix"; path: string }): DenoListener;
  listenTls(options: { hostname: string; port: number; reusePort?: boolean; cert: string; key: string; alpnProtocols: string[] }): DenoListener;
  /** Present only with `--unstable-net` (or `--unstable`): what tells that flag is on. */
  readonly listenDatagram?: unknown;
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
  readonly internal?: symbol;
  readonly errors: { readonly BadResource: new (...args: never[]) => Error; readonly Interrupted: new (...args: never[]) => Error };
}

export const deno = (): DenoApi => (globalThis as unknown as { Deno: DenoApi }).Deno;

/** Deno's `serveHttpOnConnection`, or `null` when this Deno has none. */
export function serveOnConnection(): ServeOnConnection | null {
  const api = deno() as DenoApi & Record<symbol, Record<string, unknown> | undefined>;
  const key = api.internal;
  const fn = key === undefined ? undefined : api[key]?.serveHttpOnConnection;
  return typeof fn === "function" ? (fn as ServeOnConnection) : null;
}
