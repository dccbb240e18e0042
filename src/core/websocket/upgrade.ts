import { clientGone, HttpError, TakoError } from "../errors.ts";
import type { TakoRequest } from "../request.ts";
import type { HandlerResult } from "../responder.ts";
import type { ResolvedWsOptions } from "./options.ts";
import { IdleWatch, WS_GOING_AWAY, type WsHandlers, type WsHub, type WsLink, type WsPeer, WsSocket } from "./socket.ts";

/** The status of a refused upgrade on a path that cannot upgrade (HTTP/2, in process): 426 Upgrade Required. */
const UPGRADE_REQUIRED = 426;

/** Accepted upgrades by the placeholder response they answer with (see {@link WsAccept.intoResponse}). */
const accepted = new WeakMap<Response, WsAccept>();

/**
 * A request the WebSocket route accepted (headers, origin and middleware passed): what its
 * handler returns. An engine that can upgrade finds it with {@link upgradeOf} and hands the
 * connection to the runtime's WebSocket; anywhere else (HTTP/2, `router.fetch` in process) it
 * answers as 426 Upgrade Required. Middleware must pass the `Response` of `next()` through
 * (adding headers to it is fine); a middleware that replaces it cancels the upgrade.
 */
export class WsAccept {
  readonly req: TakoRequest<unknown, unknown>;
  readonly handlers: WsHandlers<unknown, unknown>;
  readonly options: ResolvedWsOptions;
  /** The subprotocol to select, `""` for none. */
  readonly protocol: string;

  /** @internal */
  constructor(req: TakoRequest<unknown, unknown>, handlers: WsHandlers<unknown, unknown>, options: ResolvedWsOptions, protocol: string) {
    this.req = req;
    this.handlers = handlers;
    this.options = options;
    this.protocol = protocol;
  }

  intoResponse(): Response {
    const response = new Response("Upgrade Required: this route speaks WebSocket over HTTP/1.1", {
      status: UPGRADE_REQUIRED,
      headers: { upgrade: "websocket", connection: "Upgrade", "content-type": "text/plain; charset=utf-8" },
    });
    accepted.set(response, this);
    return response;
  }

  /**
   * The engine has upgraded the connection: makes the socket, registers it with `hub`, runs
   * `open`, and returns the peer the engine reports events to. `report` receives handler errors.
   */
  open(link: WsLink, hub: WsHub, report: (error: unknown) => void): WsPeer {
    const req = this.req;
    const ws = new WsSocket<unknown, unknown>(req, link, this.options.backpressureLimit);
    const h = this.handlers;
    const fail = (error: unknown): void => {
      report(error);
      // A handler that throws must not leave the peer talking to a broken session (1011, RFC 6455 §7.4.1).
      try {
        ws.close(1011, "internal error");
      } catch {
        // already closing
      }
    };
    const idle = new IdleWatch(link, this.options);
    let closed = false;
    hub.add(ws);
    if (hub.draining) {
      ws.markClosing();
      link.close(WS_GOING_AWAY, "server shutting down");
    }
    if (h.drain !== undefined) {
      const drain = h.drain;
      ws.onDrain = () => settle(() => drain(ws), fail);
    }
    if (h.open !== undefined) settle(() => h.open!(ws), fail);
    // Hot path (one call per message): no closure or allocation beyond the handler's own.
    const onMessage = h.message;
    return {
      message(data) {
        if (closed) return;
        idle.seen();
        if (onMessage === undefined) return;
        try {
          const out = onMessage(ws, data);
          if (out instanceof Promise) out.catch(fail);
        } catch (error) {
          fail(error);
        }
      },
      pong() {
        idle.seen();
      },
      closed(code, reason) {
        if (closed) return;
        closed = true;
        idle.stop();
        ws.markClosing();
        hub.delete(ws);
        // The session was the response: work started for it (`ws.req.signal`) is no longer wanted.
        req.abortSignal(clientGone(`the WebSocket closed (${code})`));
        if (h.close !== undefined) settle(() => h.close!(ws, code, reason), fail);
      },
    };
  }
}

/** Runs a handler; a throw or a rejection goes to `fail`. */
function settle(run: () => void | Promise<void>, fail: (error: unknown) => void): void {
  try {
    const out = run();
    if (out instanceof Promise) out.catch(fail);
  } catch (error) {
    fail(error);
  }
}

/** The accepted upgrade a handler result stands for, or `null` (engines; cheap for any result). */
export function upgradeOf(value: HandlerResult): WsAccept | null {
  if (value instanceof WsAccept) return value;
  if (value instanceof Response) return accepted.get(value) ?? null;
  return null;
}

/** Why a request cannot be upgraded by RFC 6455 §4.2.1, with the status to answer; `null` when it can. */
export function handshakeProblem(req: TakoRequest<unknown, unknown>): { status: number; message: string; headers?: Record<string, string> } | null {
  const upgrade = req.header("upgrade");
  if (
    upgrade === null ||
    !upgrade
      .toLowerCase()
      .split(",")
      .some((t) => t.trim() === "websocket")
  ) {
    return { status: UPGRADE_REQUIRED, message: "this route speaks WebSocket: send Upgrade: websocket", headers: { upgrade: "websocket", connection: "Upgrade" } };
  }
  const connection = req.header("connection");
  if (
    connection === null ||
    !connection
      .toLowerCase()
      .split(",")
      .some((t) => t.trim() === "upgrade")
  ) {
    return { status: 400, message: "WebSocket handshake without Connection: Upgrade" };
  }
  if (req.header("sec-websocket-version") !== "13") {
    // RFC 6455 §4.4: say which version the server speaks.
    return { status: UPGRADE_REQUIRED, message: "unsupported WebSocket version: this server speaks 13", headers: { "sec-websocket-version": "13" } };
  }
  const key = req.header("sec-websocket-key");
  if (key === null || !/^[A-Za-z0-9+/]{22}==$/.test(key.trim())) return { status: 400, message: "WebSocket handshake with a missing or malformed Sec-WebSocket-Key" };
  return null;
}

/** The subprotocol to select: the server's first preference the client offered, `""` for none. */
export function selectProtocol(offered: string | null, protocols: readonly string[]): string {
  if (offered === null || protocols.length === 0) return "";
  const set = new Set(offered.split(",").map((p) => p.trim()));
  return protocols.find((p) => set.has(p)) ?? "";
}

/**
 * The handler of a WebSocket route: checks the handshake (426 / 400) and the origin (403), picks
 * the subprotocol, and accepts. It runs inside the route's middleware, so a middleware can
 * answer first (401, 403, 429 …) with an ordinary response and no upgrade happens.
 */
export function wsRoute(handlers: WsHandlers<unknown, unknown>, options: ResolvedWsOptions): (req: TakoRequest<unknown, unknown>) => WsAccept {
  if (typeof handlers !== "object" || handlers === null)
    throw new TakoError("TAKO_ERR_CONFIG", "WebSocket handlers must be an object of { open, message, close, drain } functions");
  for (const name of Object.keys(handlers)) {
    if (!["open", "message", "close", "drain"].includes(name))
      throw new TakoError("TAKO_ERR_CONFIG", `unknown WebSocket handler ${JSON.stringify(name)} (expected open, message, close, drain)`);
    if (typeof (handlers as Record<string, unknown>)[name] !== "function") throw new TakoError("TAKO_ERR_CONFIG", `WebSocket handler ${name} must be a function`);
  }
  const origins = options.allowedOrigins;
  return (req) => {
    const problem = handshakeProblem(req);
    if (problem !== null) throw new HttpError(problem.status, problem.message, problem.headers);
    if (origins !== null) {
      const origin = req.header("origin");
      if (origin !== null && !origins.has(origin.toLowerCase())) throw new HttpError(403, "origin not allowed");
    }
    return new WsAccept(req, handlers, options, selectProtocol(req.header("sec-websocket-protocol"), options.protocols));
  };
}
