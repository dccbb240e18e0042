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
  /** TCP only: `TCP_NODELAY`. */
  setNoDelay?(noDelay: boolean): void;
  /** TLS only: completes the handshake; `alpnProtocol` is what ALPN chose (`null`: none). */
  handshake?(): Promise<{ alpnProtocol: string | null }>;
}

export interface DenoListener {
  readonly addr: DenoNetAddr | DenoUnixAddr;
  accept(): Promise<DenoConn>;
  close(): void;
}

export interface DenoApi {
  listen(options: { hostname: string; port: number; reusePort?: boolean } | { transport: "unix"; path: string }): DenoListener;
  listenTls(options: { hostname: string; port: number; reusePort?: boolean; cert: string; key: string; alpnProtocols: string[] }): DenoListener;
  /** Present only with `--unstable-net` (or `--unstable`): what tells that flag is on. */
  readonly listenDatagram?: unknown;
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
  readonly errors: { readonly BadResource: new (...args: never[]) => Error; readonly Interrupted: new (...args: never[]) => Error };
}

/**
 * Deno's own read and write ops on a resource (`Deno[Deno.internal].core`), which `Deno.Conn`'s
 * `read` and `write` wrap in an async function and a set of pending promises each call. An
 * internal API: {@link connOps} feature-detects it, and test/deno-engine asserts that the pinned
 * Deno has it, so an upgrade that removes it fails CI rather than slowing every read silently.
 */
export interface DenoCoreOps {
  /** Reads into `into`: the byte count, 0 at the end of the stream. */
  read(rid: number, into: Uint8Array): Promise<number>;
  write(rid: number, bytes: Uint8Array): Promise<number>;
}

/** The core ops and `conn`'s resource id, or `null` when this Deno does not expose them. */
export function connOps(conn: DenoConn): { readonly core: DenoCoreOps; readonly rid: number } | null {
  if (coreOps === undefined) {
    const d = globalThis as unknown as { Deno?: Record<PropertyKey, unknown> & { internal?: symbol } };
    const internal = d.Deno?.internal;
    const core = internal === undefined ? undefined : (d.Deno![internal] as { core?: Partial<DenoCoreOps> } | undefined)?.core;
    coreOps = typeof core?.read === "function" && typeof core.write === "function" ? (core as DenoCoreOps) : null;
  }
  if (coreOps === null) return null;
  ridSymbol ??= Object.getOwnPropertySymbols(conn).find((s) => s.description === "Deno.internal.rid") ?? null;
  const rid = ridSymbol === null ? undefined : (conn as unknown as Record<symbol, unknown>)[ridSymbol];
  return typeof rid === "number" ? { core: coreOps, rid } : null;
}

/** Looked up once per process (`undefined`: not yet). */
let coreOps: DenoCoreOps | null | undefined;
let ridSymbol: symbol | null | undefined;

export const deno = (): DenoApi => (globalThis as unknown as { Deno: DenoApi }).Deno;

/**
 * Deno's node:net TCP handle (`process.binding("tcp_wrap")`), whose `openFromRid` opens a
 * duplicate of a `Deno.listen` connection's descriptor as a node:net handle: Deno's node:tls then
 * runs TLS on it in Rust (its TLSWrap) rather than over a JavaScript stream. An internal API:
 * {@link tcpWrap} feature-detects it, and test/deno-engine asserts that the pinned Deno has it.
 */
export interface DenoTcpWrap {
  readonly TCP: new (type: number) => DenoTcpHandle;
  readonly constants: { readonly SOCKET: number };
}

/** A node:net TCP handle (what `new net.Socket({ handle })` takes). */
export interface DenoTcpHandle {
  /** Opens a duplicate of TCP resource `rid`'s descriptor; 0 on success (a Unix socket's resource fails). */
  openFromRid(rid: number): number;
  close(): void;
}

/** The TCP handle binding, or `null` when this Deno does not expose it. */
export function tcpWrap(): DenoTcpWrap | null {
  if (tcpWrapCache !== undefined) return tcpWrapCache;
  try {
    const b = (globalThis as unknown as { process?: { binding?(name: string): Partial<DenoTcpWrap> } }).process?.binding?.("tcp_wrap");
    const proto = typeof b?.TCP === "function" ? (b.TCP.prototype as Record<string, unknown>) : null;
    tcpWrapCache = proto !== null && typeof proto.openFromRid === "function" && typeof b?.constants?.SOCKET === "number" ? (b as DenoTcpWrap) : null;
  } catch {
    tcpWrapCache = null;
  }
  return tcpWrapCache;
}

let tcpWrapCache: DenoTcpWrap | null | undefined;
