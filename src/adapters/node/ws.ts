import { type IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { errorReply } from "../../core/responder.ts";
import type { HandlerResult } from "../../core/responder.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import { upgradeOf } from "../../core/websocket/index.ts";
import { WsBridge } from "../shared/ws-bridge.ts";
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
