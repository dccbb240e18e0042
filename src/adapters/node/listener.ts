import type { Server as NetServer, Socket } from "node:net";
import type { AcceptBackoff } from "../../core/config.ts";
import type { SocketAddr } from "../../server/engine.ts";

/** Sent to an HTTP/1.1 connection over `maxConnections` before it is closed: refused promptly, with a reason. */
export const BUSY_HTTP1 = "HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 26\r\nretry-after: 1\r\n\r\nserver at connection limit";

const ignoreError = (): void => {};

/** How a transport refuses a connection over `maxConnections` (it is not tracked). */
export type Refuse = (socket: Socket) => void;

/** Writes `bytes`, then closes; a peer that never reads is cut after a second. */
export function refuseWith(socket: Socket, bytes: string | Uint8Array): void {
  socket.on("error", () => {});
  socket.write(bytes, () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}

const refuseHttp1: Refuse = (socket) => refuseWith(socket, BUSY_HTTP1);

/**
 * The accept side of the lifecycle on node:net: tracks every connection from accept to close
 * (abrupt resets included), enforces the connection cap, survives accept errors, and hands
 * connections to the attached transport. Used by Node, and by Bun and Deno through their node:net.
 */
export class NodeAcceptor {
  readonly server: NetServer;
  readonly sockets = new Set<Socket>();
  /** Resolves when the listener has closed and the last connection is gone. */
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  #listening = true;
  #max: number | null = null;
  #backoff: AcceptBackoff = { initial: 5, max: 1000 };
  #nextReport = 0;
  #delay = 0;
  /** Connections accepted before a transport was attached; handed over when it is. */
  #pending: Socket[] | null = [];
  #accept: ((socket: Socket) => void) | null = null;
  #refuse: Refuse = refuseHttp1;

  constructor(server: NetServer) {
    this.server = server;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    server.on("connection", (socket) => this.#onConnection(socket));
    server.once("close", () => {
      this.#listening = false;
      this.#settle();
    });
    server.on("error", (error) => this.#onAcceptError(error));
  }

  localAddr(): SocketAddr {
    const a = this.server.address();
    if (a === null || typeof a === "string") throw new Error("listener is not bound to a TCP address");
    return { address: a.address, port: a.port, family: a.family === "IPv6" ? "IPv6" : "IPv4" };
  }

  /**
   * Starts handing connections (queued ones first) to `accept`, under a cap and backoff;
   * `refuse` answers connections over the cap in the transport's protocol.
   */
  attach(accept: (socket: Socket) => void, max: number | null, backoff: AcceptBackoff, refuse: Refuse = refuseHttp1): void {
    this.#max = max;
    this.#backoff = backoff;
    this.#refuse = refuse;
    this.#accept = accept;
    const pending = this.#pending ?? [];
    this.#pending = null;
    for (const socket of pending) if (!socket.destroyed) accept(socket);
  }

  #onConnection(socket: Socket): void {
    this.#delay = 0;
    if (this.#max !== null && this.sockets.size >= this.#max) return this.#refuse(socket);
    this.sockets.add(socket);
    // A peer that resets the connection before a transport has attached its own handlers (while
    // the HTTP/2 preface or a PROXY header is being read) must not take the process down; the
    // transports' own 'error' handlers still see every error.
    socket.on("error", ignoreError);
    socket.once("close", () => {
      this.sockets.delete(socket);
      if (!this.#listening && this.sockets.size === 0) this.#settle();
    });
    if (this.#accept !== null) this.#accept(socket);
    else this.#pending!.push(socket);
  }

  /**
   * An accept error (EMFILE, ENFILE …) never stops the server: libuv sheds connections it
   * cannot take and keeps listening. Reports are paced by the backoff schedule (initial,
   * doubling to max) so a descriptor shortage does not flood the log.
   */
  #onAcceptError(error: Error): void {
    const now = Date.now();
    this.#delay = this.#delay === 0 ? this.#backoff.initial : Math.min(this.#delay * 2, this.#backoff.max);
    if (now < this.#nextReport) return;
    this.#nextReport = now + this.#delay;
    console.error(`tako: accept failed (${(error as NodeJS.ErrnoException).code ?? error.message}); still listening`);
  }

  /** Stops accepting: the listening socket closes, so new connects are refused. */
  stopAccepting(): void {
    if (this.#listening) this.server.close();
  }

  /** Destroys every tracked connection. */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  #settle(): void {
    if (!this.#listening && this.sockets.size === 0) this.#resolveClosed();
  }
}
