import type { Socket } from "node:net";
import type { ServerConfig } from "../../core/config.ts";
import { ProxyHeaderReader, ProxyProtocolError, type ProxyHeader } from "../../core/proxy-protocol/index.ts";
import { Deadline } from "../shared/deadline.ts";
import { connectionRefused, publishConnection } from "../shared/diagnostics.ts";
import { handOff, type Transport } from "./transport.ts";

const kProxy = Symbol("tako.proxyHeader");
type Tagged = Socket & { [kProxy]?: ProxyHeader };

/**
 * The PROXY header a connection opened with, or `null`. A TLS socket wraps the raw socket the
 * header was read from (`_parent` on Node, Bun and Deno).
 */
export function proxyOf(socket: Socket): ProxyHeader | null {
  const own = (socket as Tagged)[kProxy];
  if (own !== undefined) return own;
  const parent = (socket as { _parent?: Socket | null })._parent;
  return parent ? ((parent as Tagged)[kProxy] ?? null) : null;
}

/** Options of {@link readProxyHeader}. */
export interface ReadProxyOptions {
  /** `"required"` (default): a connection without a valid header fails. `"optional"`: bytes that cannot start a header are left for the application, and the header is `null`. */
  readonly mode?: "required" | "optional";
  /** Deadline for the whole header in milliseconds. Default 10 s (tako's `proxyReadTimeout`). */
  readonly timeoutMs?: number;
  /** A CRC32C TLV that does not match: `"reject"` (default) or `"flag"` (`crc32cVerified: false`). */
  readonly onBadCrc?: "reject" | "flag";
}

/**
 * Reads a PROXY protocol header (v1 or v2) from the start of a node:net socket (Node, Bun and
 * Deno) and leaves the stream positioned at the first byte after it: the bytes that came in the
 * same reads are put back in front of the stream, in order, and the socket is paused. Resolves
 * with the header (`null` in optional mode when there is none); rejects with a
 * `ProxyProtocolError` for a bad header, or an `Error` on timeout or when the peer leaves. For
 * raw TCP protocols; HTTP servers use `Server.builder().proxyProtocol(mode)`.
 */
export function readProxyHeader(socket: Socket, options: ReadProxyOptions = {}): Promise<ProxyHeader | null> {
  return new Promise((resolve, reject) => {
    read(socket, options.mode ?? "required", options.timeoutMs ?? 10_000, options.onBadCrc ?? "reject", (error, header, rest) => {
      if (error !== null) return reject(error);
      socket.pause();
      if (rest !== null && rest.length > 0) socket.unshift(rest);
      resolve(header);
    });
  });
}

type Done = (error: Error | null, header: ProxyHeader | null, rest: Buffer | null) => void;

/** Collects bytes until they hold a complete header (or cannot), under a deadline. */
function read(socket: Socket, mode: "required" | "optional", timeoutMs: number, onBadCrc: "reject" | "flag", done: Done): void {
  const reader = new ProxyHeaderReader(mode, onBadCrc);
  let finished = false;
  const finish = (error: Error | null, header: ProxyHeader | null, rest: Buffer | null): void => {
    if (finished) return;
    finished = true;
    deadline.clear();
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("close", onEnd);
    done(error, header, rest);
  };
  const deadline = new Deadline();
  deadline.arm(timeoutMs, () => finish(new Error(`no complete PROXY header within ${timeoutMs} ms`), null, null));
  const onEnd = (): void => finish(new Error("connection closed before a complete PROXY header"), null, null);
  const onData = (chunk: Buffer): void => {
    let read;
    try {
      read = reader.push(chunk);
    } catch (error) {
      return finish(error instanceof ProxyProtocolError ? error : new Error(String(error)), null, null);
    }
    if (read !== null) finish(null, read.header, Buffer.from(read.rest.buffer, read.rest.byteOffset, read.rest.byteLength));
  };
  socket.on("data", onData);
  socket.once("end", onEnd);
  socket.once("close", onEnd);
}

/**
 * The PROXY protocol in front of any transport (HTTP/1.1, h2c, TLS): the header is read from
 * the raw socket before any HTTP or TLS byte, within `proxyReadTimeout`; the connection then
 * goes to `inner` with the bytes after the header replayed in order. A bad, missing (in
 * required mode) or late header closes that connection only; its `maxConnections` slot frees
 * when it closes.
 */
export function proxyTransport(inner: Transport, mode: "required" | "optional", config: ServerConfig, onBadCrc: "reject" | "flag"): Transport {
  const handed = new WeakSet<Socket>();
  return {
    handOff: "flowing",
    refuse: inner.refuse,
    accept(socket) {
      read(socket, mode, config.proxyReadTimeout, onBadCrc, (error, header, rest) => {
        if (error !== null) {
          if (connectionRefused.hasSubscribers) publishConnection(connectionRefused, socket, socket, "proxy", error);
          return void socket.destroy();
        }
        if (header !== null) (socket as Tagged)[kProxy] = header;
        handed.add(socket);
        handOff(socket, rest, inner);
      });
    },
    drain: () => inner.drain(),
    close: () => inner.close(),
    // A PROXY header still arriving (or stalled) is idle; after it, the transport inside decides.
    idle: (socket) => !handed.has(socket) || (inner.idle?.(socket) ?? false),
  };
}
