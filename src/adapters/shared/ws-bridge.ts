import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { PerMessageDeflateOptions, WebSocket, WebSocketServer } from "ws";
import type { AnyRequest, Dispatcher } from "../../core/router/types.ts";
import { type ResolvedWsOptions, type WsAccept, WsHub, type WsLink } from "../../core/websocket/index.ts";

type WsModule = typeof import("ws");

/** The `ws` package once loaded; `null` before. */
let wsModule: WsModule | null = null;
let wsLoading: Promise<WsModule> | null = null;

/**
 * Loads the `ws` package once, on the first server with WebSocket routes (or the first upgrade):
 * a server without any never loads it. Measured on Deno 2.9.6: importing `ws` alone takes ~19
 * MiB of resident memory; a tako HTTP/1.1 server without WebSocket routes starts 1–2 MiB smaller
 * (three pairs), since it loads some of the same node: modules anyway.
 */
function loadWs(): Promise<WsModule> {
  return (wsLoading ??= import("ws").then((m) => (wsModule = m)));
}

/**
 * The `ws` package's side of an accepted upgrade, for any engine that has the request head and a
 * node-style stream of the connection (node:http's `'upgrade'` socket, or Bun's raw socket
 * through `wire/socket-duplex.ts`): one `ws` server in `noServer` mode per distinct route options
 * (its options are per server) does the 101, the frames, the closing handshake and the protocol
 * errors; the socket it makes is bound to the core's {@link WsHub} (the drain's 1001), idle
 * ping/pong and backpressure through a {@link WsLink}.
 */
export class WsBridge {
  /** The open WebSocket connections of this transport: the drain closes them with 1001. */
  readonly hub = new WsHub();
  readonly router: Dispatcher;
  readonly #servers = new WeakMap<ResolvedWsOptions, WebSocketServer>();
  /** The subprotocol the route selected, for `ws`'s `handleProtocols`. */
  readonly #protocols = new WeakMap<IncomingMessage, string>();

  /** Starts loading `ws` when `router` has WebSocket routes, so the first upgrade does not wait for it. */
  constructor(router: Dispatcher) {
    this.router = router;
    if (router.hasUpgrades?.() === true) loadWs().catch(() => {});
  }

  /**
   * Hands the connection to `ws`: `req` is read for the handshake headers (`method`, `headers`),
   * `head` is what was read past the request head (the first frames). Before `ws` has loaded the
   * hand-over waits for it (a client sends no frame before the 101); should it fail to load, the
   * connection is closed and the error goes to the router's recovery (logged, never on the wire).
   */
  upgrade(accept: WsAccept, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (accept.protocol !== "") this.#protocols.set(req, accept.protocol);
    const ws = wsModule;
    if (ws !== null) return this.#handOver(ws, accept, req, socket, head);
    loadWs().then(
      (m) => this.#handOver(m, accept, req, socket, head),
      (error: unknown) => {
        socket.destroy();
        this.router.recover(error, accept.req as AnyRequest);
      },
    );
  }

  #handOver(ws: WsModule, accept: WsAccept, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (socket.destroyed) return;
    this.#serverFor(ws, accept.options).handleUpgrade(req, socket, head, (client) => this.#bind(accept, client));
  }

  #serverFor(ws: WsModule, options: ResolvedWsOptions): WebSocketServer {
    let server = this.#servers.get(options);
    if (server === undefined) {
      server = new ws.WebSocketServer({
        noServer: true,
        clientTracking: false,
        maxPayload: options.maxPayload,
        perMessageDeflate: deflateOptions(options),
        handleProtocols: (_offered, req) => this.#protocols.get(req) ?? false,
      });
      this.#servers.set(options, server);
    }
    return server;
  }

  #bind(accept: WsAccept, ws: WebSocket): void {
    const link: WsLink = {
      // Strings go out as text, bytes as binary (ws's own default for each type).
      send: (data) => ws.send(data),
      close: (code, reason) => ws.close(code, reason),
      ping: () => {
        ws.ping();
        return true;
      },
      terminate: () => ws.terminate(),
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      protocol: ws.protocol,
      extensions: ws.extensions,
    };
    const router = this.router;
    const p = accept.open(link, this.hub, (error) => router.recover(error, accept.req as AnyRequest));
    ws.on("message", (data: Buffer, isBinary: boolean) => p.message(isBinary ? data : data.toString("utf8")));
    ws.on("pong", () => p.pong());
    ws.on("close", (code: number, reason: Buffer) => p.closed(code, reason.toString("utf8")));
    // A protocol violation (unmasked frame, bad opcode or UTF-8, oversized message or control
    // frame): `ws` has already sent the close code (1002/1007/1009) and closes; nothing to throw.
    ws.on("error", () => {});
  }
}

/**
 * permessage-deflate for `ws`, bounded: no context takeover either way (no zlib state kept
 * between messages), at most 10 zlib jobs at once (`ws` keeps one limiter per process),
 * inflated size checked against `maxPayload` as `ws` inflates (1009 past it).
 */
function deflateOptions(options: ResolvedWsOptions): PerMessageDeflateOptions | false {
  if (options.deflateThreshold === null) return false;
  return { threshold: options.deflateThreshold, serverNoContextTakeover: true, clientNoContextTakeover: true, concurrencyLimit: 10 };
}
