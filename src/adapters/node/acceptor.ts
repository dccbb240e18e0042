import type { Server as NetServer, Socket } from "node:net";
import type { AcceptBackoff } from "../../core/config.ts";
import type { SocketAddr } from "../engine.ts";
import { AcceptErrorReports } from "../shared/backoff.ts";
import { DEFAULT_SERVER_CONFIG } from "../../core/config.ts";
import { Lifecycle } from "../shared/lifecycle.ts";
import { displayPath } from "../shared/socket-file.ts";
import { markUnix } from "./unix-peer.ts";

/** Sent to an HTTP/1.1 connection over `maxConnections` before it is closed: refused promptly, with a reason. */
export const BUSY_HTTP1 =
  "HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 26\r\nretry-after: 1\r\n\r\nserver at connection limit";

const ignoreError = (): void => {};

/** How a transport refuses a connection over `maxConnections` (it is not tracked). */
export type Refuse = (socket: Socket) => void;

/** Writes `bytes`, then closes; a peer that never reads is cut after a second. */
export function refuseWith(socket: Socket, bytes: string | Uint8Array): void {
  socket.on("error", ignoreError);
  socket.write(bytes, () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}

const refuseHttp1: Refuse = (socket) => refuseWith(socket, BUSY_HTTP1);

/** What the acceptor hands connections to once a transport is attached. */
export interface AcceptTarget {
  accept(socket: Socket): void;
  /** Answers a connection over the cap in the transport's protocol. */
  readonly refuse: Refuse;
}

/**
 * The accept side of the lifecycle on node:net: feeds the {@link Lifecycle} kernel every
 * connection from accept to close (abrupt resets included), refuses those over the cap,
 * survives accept errors, and hands connections to the attached transport (the Node engine).
 */
export class NodeAcceptor {
  readonly server: NetServer;
  readonly lifecycle: Lifecycle<Socket>;
  #listening = true;
  /** Accept errors (EMFILE, ENFILE …) never stop the server: libuv sheds what it cannot take and keeps listening. */
  readonly #errors = new AcceptErrorReports(DEFAULT_SERVER_CONFIG.acceptBackoff);
  /** Connections accepted before a transport was attached; handed over when it is. */
  #pending: Socket[] | null = [];
  #target: AcceptTarget | null = null;
  /** The path of a Unix listener (`null`: TCP; `undefined`: not listening yet), noted on each connection for `req.conn`. */
  #unixPath: string | null | undefined;

  constructor(server: NetServer) {
    this.server = server;
    const lifecycle = (this.lifecycle = new Lifecycle<Socket>());
    server.on("connection", (socket) => this.#onConnection(socket));
    server.once("close", () => {
      this.#listening = false;
      lifecycle.listenerClosed();
    });
    server.on("error", (error) => this.#errors.report(error));
  }

  /** The Unix listener's path as tako shows it, or `null` on TCP. */
  #unix(): string | null | undefined {
    if (this.#unixPath === undefined && this.server.listening) {
      const a = this.server.address();
      // A Unix socket adopted from a descriptor has no path node:net can tell (`address()` is
      // not a string then): shown as "".
      this.#unixPath = typeof a === "string" ? displayPath(a) : typeof a?.port === "number" ? null : "";
    }
    return this.#unixPath;
  }

  localAddr(): SocketAddr {
    const unix = this.#unix();
    if (typeof unix === "string") return { address: unix, port: 0, family: "unix" };
    const a = this.server.address();
    if (a === null || typeof a === "string") throw new Error("listener is not bound");
    return { address: a.address, port: a.port, family: a.family === "IPv6" ? "IPv6" : "IPv4" };
  }

  /** Starts handing connections (queued ones first) to `target`, with the accept-error `backoff`. */
  attach(target: AcceptTarget, backoff: AcceptBackoff): void {
    this.#errors.schedule(backoff);
    this.#target = target;
    const pending = this.#pending ?? [];
    this.#pending = null;
    for (const socket of pending) if (!socket.destroyed) target.accept(socket);
  }

  #onConnection(socket: Socket): void {
    this.#errors.accepted();
    const lifecycle = this.lifecycle;
    if (!lifecycle.admit(socket)) return (this.#target?.refuse ?? refuseHttp1)(socket);
    const unix = this.#unix();
    if (typeof unix === "string") markUnix(socket, unix);
    // A peer that resets the connection before a transport has attached its own handlers (while
    // the HTTP/2 preface or a PROXY header is being read) must not take the process down; the
    // transports' own 'error' handlers still see every error.
    socket.on("error", ignoreError);
    socket.once("close", () => lifecycle.release(socket));
    if (this.#target !== null) this.#target.accept(socket);
    else this.#pending!.push(socket);
  }

  /** Stops accepting: the listening socket closes, so new connects are refused. */
  stopAccepting(): void {
    if (this.#listening) this.server.close();
  }

  /** Destroys every tracked connection. */
  destroyAll(): void {
    this.lifecycle.forEach((socket) => {
      socket.destroy();
    });
  }
}
