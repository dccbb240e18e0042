import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { ServerConfig } from "../../core/config.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import type { Socket } from "node:net";
import { RateSample } from "../shared/rate.ts";
import { BUSY_HTTP1, refuseWith } from "./acceptor.ts";
import { type NodeRequest, nodeRequestClass, refusedHead, type ServedState, servedState } from "./request.ts";
import { bodyDeadline } from "../../core/body.ts";
import { send, type SendContext } from "./send.ts";
import { requestStart, traceDispatch } from "../shared/diagnostics.ts";
import type { Transport } from "./transport.ts";
import { isUpgraded, NodeWsUpgrades } from "./ws.ts";

/** How often idle connections are swept while a drain waits for in-flight requests. */
const DRAIN_SWEEP_MS = 50;

/**
 * Lingering close: how much of an unread request body is read and thrown away, and for how
 * long at most, after a response that ends the connection (see {@link lingeringClose}).
 */
export const LINGER_MAX_BYTES = 8 * 1024 * 1024;
export const LINGER_MAX_MS = 2000;

/**
 * The response to the last request parsed on a connection (responses go out in request order,
 * so it is the last to finish): read by {@link lingeringClose} and {@link answerClientError}.
 */
export const kResponse = Symbol("tako.response");
/** Set once a connection's request stream was found malformed: it is answered once, then closed. */
const kFailed = Symbol("tako.failed");
export type Http1Socket = Socket & { [kResponse]?: ServerResponse; [kFailed]?: true };

/**
 * node:http (and Bun's and Deno's) calls `socket.destroySoon()` after a response that ends the
 * connection: the socket is destroyed as soon as the response is written. If the client is
 * still sending a request body then (an upload answered 413, or by a handler that did not read
 * it), closing with unread bytes makes the kernel reset the connection, and the client often
 * loses the response it had not read yet (EPIPE/ECONNRESET instead of the 413).
 *
 * So, as nginx and Apache do: send the response and a FIN (nothing more is sent), keep reading
 * and discarding the rest of the body, and close once it has all arrived, the client closed,
 * {@link LINGER_MAX_BYTES} more were read, or {@link LINGER_MAX_MS} passed, whichever is first.
 * The connection stays tracked (its `maxConnections` slot, the drain deadline cut it).
 */
function lingeringClose(this: Http1Socket): void {
  const req = this[kResponse]?.req;
  if (req === undefined || req.complete || req.destroyed || this.destroyed) {
    (Object.getPrototypeOf(this) as Socket).destroySoon.call(this);
    return;
  }
  this[kResponse] = undefined;
  // Deno's node:http closes, on closeIdleConnections() (the drain's sweep), every socket whose
  // response was detached from it, which a lingering one is: unmark it. It stays tracked, and
  // the drain deadline cuts it like any other connection.
  const detached = this as Socket & { _httpMessageDetached?: boolean };
  if (detached._httpMessageDetached === true) detached._httpMessageDetached = false;
  this.end();
  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    if (this.writableFinished) this.destroy();
    else this.once("finish", () => this.destroy());
  };
  const timer = setTimeout(() => this.destroy(), LINGER_MAX_MS);
  this.once("close", () => clearTimeout(timer));
  let left = LINGER_MAX_BYTES;
  // Whoever was reading the body is done with it: discard it in flowing mode.
  req.removeAllListeners("readable");
  req.on("data", (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) close();
  });
  req.once("end", close);
  req.resume();
}

/** tako's answers to a malformed request stream, by node:http's error code (node:http's own choice of status). */
export function clientErrorAnswer(code: string | undefined): string {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return "HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return "HTTP/1.1 413 Content Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return "HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
    default:
      return "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
  }
}

/**
 * node:http's `clientError`: the request stream on `socket` is malformed (or a head timed out).
 * Left to itself, node:http writes its 400 at once and destroys the socket, so a response to a
 * request parsed before the bad one, pipelined in the same packet and still being produced by
 * an async handler, was lost. tako answers in order instead: the responses to the requests
 * parsed before the error go out first, then the error status, then the connection closes. (An
 * error inside a request whose answer is under way, in its body, is answered at once.)
 * The wait is bounded by `boundMs` (`headerReadTimeout`; the drain deadline cuts it too): past
 * it the connection is destroyed.
 */
export function answerClientError(
  error: Error & { code?: string },
  socket: Http1Socket,
  boundMs: number | null,
  answerFor: (code: string | undefined) => string = clientErrorAnswer,
): void {
  // node:http reports every later parse error on the same connection again: answer once.
  if (socket[kFailed] === true) return;
  socket[kFailed] = true;
  if (error.code === "ECONNRESET" || socket.destroyed) {
    socket.destroy();
    return;
  }
  const answer = answerFor(error.code);
  const last = socket[kResponse];
  if (last?.headersSent && endsConnection(last)) {
    // The last response closes the connection (a 400 for a request tako refused, or
    // `Connection: close`): nothing may follow it, even when its 'finish' has not ended the
    // socket yet. Whatever the client sent after it is discarded.
    if (last.writableFinished) endSoon(socket);
    else last.once("close", () => endSoon(socket));
    return;
  }
  if (last === undefined || last.writableFinished) {
    answerAndClose(socket, answer);
    return;
  }
  if (!last.req.complete) {
    // The bad bytes are in that request's own head or body: it can never complete. Answer now
    // if its response has not started (else just close), as node:http does.
    if (last.headersSent) socket.destroy();
    else answerAndClose(socket, answer);
    return;
  }
  const timer = boundMs === null || !Number.isFinite(boundMs) ? null : setTimeout(() => socket.destroy(), boundMs);
  let settled = false;
  const settle = (): void => {
    if (settled) return;
    settled = true;
    if (timer !== null) clearTimeout(timer);
    if (last.writableFinished) answerAndClose(socket, answer);
    else socket.destroy();
  };
  last.once("finish", settle);
  last.once("close", settle);
}

/** Whether `res` is the connection's last response (it carries, or node:http chose, `Connection: close`). */
function endsConnection(res: ServerResponse): boolean {
  if ((res as ServerResponse & { _last?: boolean })._last === true) return true;
  const connection = res.getHeader("connection");
  return typeof connection === "string" && /(?:^|,)\s*close\s*(?:,|$)/i.test(connection);
}

/** Writes `answer` and closes once it is out, unless the connection is already closing. */
function answerAndClose(socket: Socket, answer: string): void {
  // A last response (Connection: close) already ended the connection: nothing more is sent.
  if (socket.destroyed || socket.writableEnded) return;
  socket.write(answer);
  endSoon(socket);
}

/** Ends `socket` once its writes are flushed (net.Socket's own destroySoon, past any override). */
function endSoon(socket: Socket): void {
  if (socket.destroyed) return;
  (Object.getPrototypeOf(socket) as Socket).destroySoon.call(socket);
}

/**
 * node:http's options for `config`: on Node, node:http enforces the HTTP/1.1 deadlines itself
 * (native, no per-request JS): its header timeout (408) and keep-alive timer. Runtimes that
 * emulate node:http ignore these, and {@link connectionTimers} enforces the same deadlines.
 */
function httpOptions(config: ServerConfig): Parameters<typeof createServer>[0] {
  const header = config.headerReadTimeout;
  return {
    // 408 + close when the head is not complete in time (node checks every interval).
    headersTimeout: header ?? 0,
    requestTimeout: 0,
    connectionsCheckingInterval: header === null ? 30_000 : Math.max(10, Math.min(1000, Math.floor(header / 4))),
    keepAliveTimeout: config.keepAliveTimeout ?? 0,
  };
}

/** What the Node engine's transports share. */
export interface NetPathOptions {
  /** The served state the server's requests share (the drain deadline marks it); one per `serve`. */
  readonly served?: ServedState;
}

/**
 * The HTTP/1.1 request path node:http servers share (Node's, and Bun's own node:http): a head
 * the rules refuse gets its answer, any other request is dispatched (traced when somebody
 * subscribes) and its result written, with one `then` for an async handler.
 */
export function answerRequest(router: Dispatcher, request: NodeRequest, req: IncomingMessage, res: ServerResponse, ctx: SendContext): void {
  const result = refusedHead(req) ?? (requestStart.hasSubscribers ? traceDispatch(router, request) : router.dispatch(request));
  if (result instanceof Promise) {
    result.then(
      (value) => send(res, value, request, ctx),
      (error: unknown) => send(res, router.recover(error, request), request, ctx),
    );
  } else send(res, result, request, ctx);
}

/** The HTTP/1.1 transport: node:http fed accepted connections, with tako's drain. */
export function http1Transport(router: Dispatcher, config: ServerConfig, options: NetPathOptions): Transport {
  const ctx: SendContext = { router, closeAfterResponse: !config.keepAlive };
  const minRate = config.bodyReadTimeout === null ? null : (config.bodyMinRate ?? 1);
  const Request = nodeRequestClass(bodyDeadline(config), config, options.served ?? servedState());
  const http: HttpServer = createServer(httpOptions(config), (req: IncomingMessage, res: ServerResponse) => {
    (req.socket as Http1Socket)[kResponse] = res;
    answerRequest(router, new Request(req, res), req, res, ctx);
  });
  const upgrades = new NodeWsUpgrades(router, Request);
  http.on("upgrade", upgrades.handle);
  const bound = config.headerReadTimeout;
  http.on("clientError", (error: Error, socket: Socket) => answerClientError(error, socket, bound));
  // node:http starts its connection tracking (header timeouts, idle list) on "listening"; the
  // listening socket is the acceptor's, so announce it once.
  http.emit("listening");
  let sweep: ReturnType<typeof setInterval> | null = null;
  return {
    handOff: "flowing",
    refuse: (socket) => refuseWith(socket, BUSY_HTTP1),
    accept(socket) {
      socket.destroySoon = lingeringClose;
      http.emit("connection", socket);
    },
    drain() {
      if (sweep !== null) return;
      ctx.closeAfterResponse = true;
      upgrades.hub.drain();
      http.closeIdleConnections();
      // A connection whose response was already under way when the drain began goes idle
      // after it; sweep until every connection is gone.
      sweep = setInterval(() => http.closeIdleConnections(), DRAIN_SWEEP_MS);
    },
    close() {
      if (sweep !== null) clearInterval(sweep);
      http.close();
    },
    // node:http keeps the response in progress on the socket: none means no request in flight
    // (a head still arriving, or kept alive between requests). A stalled upload counts as idle.
    idle: (socket) => {
      if (isUpgraded(socket)) return false;
      const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      return res == null || (minRate !== null && stalledBody(socket as RateSocket, res.req, minRate));
    },
  };
}

/** A socket's body-rate sample (taken at the cap only). */
const kRate = Symbol("tako.rate");
type RateSocket = Socket & { [kRate]?: RateSample };

/**
 * True when `req`'s body is arriving slower than `minRate` bytes/s, sampled between two calls
 * at least a second apart (only asked at the connection cap, oldest connection first): a
 * stalled upload, which may be shed like an idle connection. A body the server is not reading
 * (the request's buffer is full: the handler has not asked for it) is never the client's fault.
 */
function stalledBody(socket: RateSocket, req: IncomingMessage, minRate: number): boolean {
  if (req.complete || req.readableLength >= req.readableHighWaterMark) return false;
  return (socket[kRate] ??= new RateSample()).below(socket.bytesRead, minRate);
}
