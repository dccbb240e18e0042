import { type IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type PerMessageDeflateOptions, type WebSocket, WebSocketServer } from "ws";
import { errorReply } from "../../core/responder.ts";
import type { HandlerResult } from "../../core/responder.ts";
import type { AnyRequest, Dispatcher } from "../../core/router/types.ts";
import { type ResolvedWsOptions, upgradeOf, type WsAccept, WsHub, type WsLink } from "../../core/websocket/index.ts";
import { HttpError } from "../../core/errors.ts";
import { type NodeRequest, refusedHead } from "./request.ts";
import { send } from "./send.ts";

/** Set on a socket node:http handed over through `'upgrade'`: it is no HTTP connection any more. */
const kUpgraded = Symbol("tako.upgraded");
type Marked = Socket & { [kUpgraded]?: true };

/**
 * True for a connection taken over by an upgrade (a WebSocket, or one being answered after a
 * refused upgrade). Never idle in the lifecycle's sense: an open WebSocket is a live session
 * whatever its traffic (its own idle check is `idleTimeout`'s ping/pong), so the cap never sheds
 * it as it sheds a kept-alive HTTP connection, and HTTP deadlines no longer apply to it.
 */
export function isUpgraded(socket: Socket): boolean {
  return (socket as Marked)[kUpgraded] === true;
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

  constructor(router: Dispatcher) {
    this.router = router;
  }

  /**
   * Hands the connection to `ws`: `req` is read for the handshake headers (`method`, `headers`),
   * `head` is what was read past the request head (the first frames).
   */
  upgrade(accept: WsAccept, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (accept.protocol !== "") this.#protocols.set(req, accept.protocol);
    this.#serverFor(accept.options).handleUpgrade(req, socket, head, (ws) => this.#bind(accept, ws));
  }

  #serverFor(options: ResolvedWsOptions): WebSocketServer {
    let server = this.#servers.get(options);
    if (server === undefined) {
      server = new WebSocketServer({
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
 * WebSocket upgrades on node:http (Node, and Bun's and Deno's node:http), through the `ws`
 * package in `noServer` mode: node:http's `'upgrade'` event gives the request and the raw
 * socket; the router runs the request (middleware included) as any other; an accepted upgrade
 * goes to `ws`'s `handleUpgrade` (the 101, frames, closing handshake, protocol errors), any other
 * answer is written on the socket with node:http's own response writer and the connection ends.
 */
export class NodeWsUpgrades extends WsBridge {
  readonly #Request: new (
    req: IncomingMessage,
  ) => NodeRequest;

  constructor(router: Dispatcher, Request: new (req: IncomingMessage) => NodeRequest) {
    super(router);
    this.#Request = Request;
  }

  /** node:http's `'upgrade'` listener. */
  readonly handle = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    (socket as Marked)[kUpgraded] = true;
    const router = this.router;
    const request = new this.#Request(req);
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = refusedHead(req) ?? router.dispatch(request);
    } catch (error) {
      result = router.recover(error, request);
    }
    if (result instanceof Promise) {
      result.then(
        (value) => this.#finish(req, socket, head, request, value),
        (error: unknown) => this.#finish(req, socket, head, request, router.recover(error, request)),
      );
    } else this.#finish(req, socket, head, request, result);
  };

  #finish(req: IncomingMessage, socket: Socket, head: Buffer, request: NodeRequest, value: HandlerResult): void {
    if (socket.destroyed) return;
    const accept = upgradeOf(value);
    if (accept !== null) {
      if (!this.hub.draining) return this.upgrade(accept, req, socket, head);
      value = errorReply(new HttpError(503, "server is shutting down"));
    }
    // node:http let the connection go at 'upgrade': answer with its response writer, then end it.
    const res = new ServerResponse(req);
    res.assignSocket(socket);
    res.once("finish", () => {
      res.detachSocket(socket);
      socket.destroySoon();
    });
    send(res, value, request, { router: this.router, closeAfterResponse: true });
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
