import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import type { Dispatcher } from "../../core/router/router.ts";
import type { BoundSocket, Engine, Serving, SocketAddr } from "../../server/engine.ts";
import { NodeRequest } from "./request.ts";
import { send } from "./send.ts";

/**
 * Node.js engine. The listener is a bare `net.Server` bound at `TcpListener.bind`; a transport
 * takes its connections by `emit("connection")`, the same entry node:http uses for its own
 * listener, so llhttp parsing and its error answers (400, 431, 413 …) are Node's.
 */
class NodeBoundSocket implements BoundSocket {
  readonly #server: NetServer;
  readonly #sockets = new Set<Socket>();
  readonly #closed: Promise<void>;
  #closing: Promise<void> | null = null;
  /** Connections accepted before a transport was attached; handed over when it is. */
  #pending: Socket[] = [];
  #accept: ((socket: Socket) => void) | null = null;

  constructor(server: NetServer) {
    this.#server = server;
    this.#closed = new Promise((resolve) => server.once("close", () => resolve()));
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
      if (this.#accept !== null) this.#accept(socket);
      else this.#pending.push(socket);
    });
  }

  #attach(accept: (socket: Socket) => void): void {
    this.#accept = accept;
    const pending = this.#pending;
    this.#pending = [];
    for (const socket of pending) if (!socket.destroyed) accept(socket);
  }

  localAddr(): SocketAddr {
    const a = this.#server.address();
    if (a === null || typeof a === "string") throw new Error("listener is not bound to a TCP address");
    return { address: a.address, port: a.port, family: a.family === "IPv6" ? "IPv6" : "IPv4" };
  }

  serveHttp(router: Dispatcher): Serving {
    const http = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      const request = new NodeRequest(req);
      const result = router.handle(request);
      if (result instanceof Promise) result.then((value) => send(res, value, request, router));
      else send(res, result, request, router);
    });
    // node:http arms its header/request timeout checks on "listening"; the socket is ours, so
    // say it is listening once to keep Node's default slow-client protection.
    http.emit("listening");
    this.#attach((socket) => http.emit("connection", socket));
    this.#server.once("close", () => http.close());
    return { closed: this.#closed };
  }

  close(): Promise<void> {
    if (this.#closing === null) {
      this.#closing = this.#closed;
      this.#server.close();
      for (const socket of this.#sockets) socket.destroy();
    }
    return this.#closing;
  }
}

export const nodeEngine: Engine = {
  runtime: "node",
  bind(host, port) {
    return new Promise((resolve, reject) => {
      const server = createNetServer({ noDelay: true });
      server.once("error", reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off("error", reject);
        resolve(new NodeBoundSocket(server));
      });
    });
  },
};
