import { readFileSync, readlinkSync } from "node:fs";
import type { TlsInfo } from "../../core/conn-info.ts";
import { displayPath } from "../shared/socket-file.ts";
import { H1Conn } from "../wire/h1-conn.ts";
import { type H1Binding, H1Server } from "../wire/h1-server.ts";
import type { AlpnProtocol, TlsChoice, WireSocket, WireTls } from "../wire/socket.ts";
import { type BunListenOptions, type BunSocket, type BunSocketHandlers, type BunTlsConfig, type BunTlsHandlers, type BunTlsSocket, bunListen } from "./bun-api.ts";
import { BunTls } from "./tls.ts";

/** Where the HTTP/1.1 path listens: a TCP address, a Unix socket path (`"\0name"`: abstract), or an inherited listening descriptor. */
export type H1Bind = { readonly host: string; readonly port: number; readonly reusePort: boolean } | { readonly path: string } | { readonly fd: number };

/** The handlers of the TLS sockets made over accepted ones: the connection's, as on the raw socket. */
const TLS_HANDLERS: BunTlsHandlers<H1Conn> = {
  handshake: (socket, ok, error) => socket.data.handshake(ok, error),
  data: (socket, chunk) => socket.data.data(chunk),
  drain: (socket) => socket.data.drain(),
  end: (socket) => socket.data.ended(),
  close: (socket) => socket.data.closed(),
  error: () => {},
};

/**
 * An {@link H1Server} on `Bun.listen`, bound now (synchronously: throws the runtime's error,
 * `EADDRINUSE` …, when it cannot). A `Bun.listen` socket is the connection's `WireSocket` as it
 * is (no wrapper); its events go to the connection through `socket.data`.
 */
export function bunH1Server(bind: H1Bind): H1Server {
  return new H1Server((server): H1Binding => {
    const handlers: BunSocketHandlers<H1Conn> = {
      open: (socket) => {
        const conn = new H1Conn(socket, server, Date.now());
        socket.data = conn;
        server.accept(conn);
      },
      // After a TLS upgrade the raw socket still reports the ciphertext: the TLS socket's handlers serve.
      data: (socket, chunk) => {
        const conn = socket.data;
        if (conn.socket === socket) conn.data(chunk);
      },
      drain: (socket) => {
        const conn = socket.data;
        if (conn.socket === socket) conn.drain();
      },
      end: (socket) => {
        const conn = socket.data;
        if (conn.socket === socket) conn.ended();
      },
      close: (socket) => socket.data?.closed(),
      error: () => {},
    };
    const options: BunListenOptions<H1Conn> =
      "path" in bind
        ? { unix: bind.path, socket: handlers }
        : "fd" in bind
          ? { fd: bind.fd, socket: handlers }
          : { hostname: bind.host, port: bind.port, reusePort: bind.reusePort, exclusive: !bind.reusePort, socket: handlers };
    const listener = bunListen(options);
    const stop = (): void => listener.stop(false);
    const a: { family?: string; address?: string; port?: number } = {};
    if (!("path" in bind)) listener.getsockname(a);
    // Bun reports no address for a Unix socket (an inherited one included).
    if ("path" in bind || a.port === undefined) {
      const unixPath = displayPath("path" in bind ? bind.path : "fd" in bind ? (unixPathOf(bind.fd) ?? "") : "");
      return { local: { address: unixPath, port: 0, family: "unix" }, unixPath, stop };
    }
    const address = a.address ?? ("host" in bind ? bind.host : "");
    const family = a.family === "IPv6" || (a.family === undefined && address.includes(":")) ? "IPv6" : "IPv4";
    return { local: { address, port: a.port ?? listener.port, family }, unixPath: null, stop };
  });
}

/**
 * The path a listening Unix socket descriptor is bound to (`"\0name"` for an abstract name), from
 * `/proc/net/unix` by the socket's inode (Linux; Bun's `getsockname` reports nothing for Unix
 * sockets); `null` when it cannot be read or the socket is unnamed.
 */
function unixPathOf(fd: number): string | null {
  try {
    const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
    if (inode === undefined) return null;
    // Num RefCount Protocol Flags Type St Inode [Path]
    for (const line of readFileSync("/proc/net/unix", "utf8").split("\n")) {
      const f = line.trim().split(/\s+/);
      if (f[6] === inode && f[7] !== undefined) return f[7].startsWith("@") ? `\0${f[7].slice(1)}` : f[7];
    }
  } catch {
    // not Linux, or not readable
  }
  return null;
}

/**
 * TLS on a `Bun.listen` socket: upgraded in place (`upgradeTLS`) with {@link BunTls}'s settings
 * (with a resolver, those it chose by the ClientHello's server name: {@link choose}); the TLS
 * socket's handlers report the handshake and then carry HTTP.
 */
export class BunWireTls implements WireTls {
  readonly #tls: BunTls;
  readonly choose: ((serverName: string | null) => BunTlsConfig | Promise<BunTlsConfig>) | undefined;

  constructor(tls: BunTls) {
    this.#tls = tls;
    this.choose = tls.choose ?? undefined;
  }

  upgrade(conn: H1Conn, initial?: Uint8Array, choice?: TlsChoice): void {
    const config = (choice as BunTlsConfig | undefined) ?? this.#tls.staticConfig;
    if (config === null) throw new Error("no certificate chosen for the handshake");
    const options = { data: conn, tls: config, socket: TLS_HANDLERS };
    const [raw, secure] = (conn.raw as BunSocket<H1Conn>).upgradeTLS<H1Conn>(initial === undefined ? options : { ...options, initialData: initial });
    conn.raw = raw;
    conn.socket = secure;
  }

  settle(socket: WireSocket): Error | AlpnProtocol {
    const secure = socket as BunTlsSocket<H1Conn>;
    const refusal = this.#tls.refusal(secure);
    if (refusal !== null) return refusal;
    return this.#tls.protocolFor(secure.alpnProtocol) ?? new Error(`no handler for ALPN protocol ${String(secure.alpnProtocol)}`);
  }

  info(socket: WireSocket): TlsInfo {
    return BunTls.infoOf(socket as BunTlsSocket<H1Conn>);
  }
}
