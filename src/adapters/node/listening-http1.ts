import { createServer, IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { ServerConfig } from "../../core/config.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import type { ServeSpec, SocketAddr } from "../engine.ts";
import { connectionCap } from "../shared/descriptors.ts";
import { BUSY_HTTP1, refuseWith } from "./acceptor.ts";
import { answerClientError, answerRequest, clientErrorAnswer, type Http1Socket, kResponse, LINGER_MAX_BYTES, LINGER_MAX_MS } from "./http1.ts";
import { bodyDeadline } from "../../core/body.ts";
import { NodeRequest, nodeRequestClass, type ServedState, servedState } from "./request.ts";
import type { SendContext } from "./send.ts";
import { http1Deadlines } from "../shared/deadline.ts";
import { Lifecycle } from "../shared/lifecycle.ts";
import { RateSample } from "../shared/rate.ts";
import { applyMode, displayPath } from "../shared/socket-file.ts";
import { markUnix } from "./unix-peer.ts";
import { isUpgraded, NodeWsUpgrades } from "./ws.ts";

/** How often idle connections are swept while a drain waits for in-flight requests. */
const DRAIN_SWEEP_MS = 50;

const REQUEST_TIMEOUT = "HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

const ignoreError = (): void => {};

/** Body bytes a request has received so far (Bun's native socket keeps no `bytesRead`). */
const kBytes = Symbol("tako.bun.bodyBytes");
/** A request's body-rate sample (taken at the cap only). */
const kRate = Symbol("tako.bun.rate");

/**
 * The request Bun's node:http builds, counting the body bytes Bun pushes into it: Bun's native
 * socket reports no `bytesRead` (it stays 0, measured), and the cap needs a body's rate to tell
 * a stalled upload (see {@link stalledBody}).
 */
class Incoming extends IncomingMessage {
  declare [kBytes]: number;
  declare [kRate]: RateSample | undefined;
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk != null) this[kBytes] = (this[kBytes] ?? 0) + (chunk as { length: number }).length;
    return super.push(chunk, encoding);
  }
}

/**
 * True when `req`'s body is arriving slower than `minRate` bytes/s, sampled between two calls
 * at least a second apart (only asked at the connection cap, oldest connection first): a
 * stalled upload, which may be shed like an idle connection. A body the server is not reading
 * (the request's buffer is full: the handler has not asked for it) is never the client's fault.
 */
function stalledBody(req: Incoming, minRate: number): boolean {
  if (req.complete || req.readableLength >= req.readableHighWaterMark) return false;
  return (req[kRate] ??= new RateSample()).below(req[kBytes] ?? 0, minRate);
}

/**
 * A connection's state, on the socket itself (one property write per request): when its current
 * wait began, and how many requests it has started (to notice, at a sweep, that a request came
 * and went since the last one).
 */
interface ConnState {
  /** When the current wait (first head, or idle after a response) was first seen; -1 while a request is in flight. */
  since: number;
  requests: number;
  /** `requests` at the last sweep. */
  seen: number;
}
const kState = Symbol("tako.bun.conn");
/** The request last parsed on a connection (responses go out in order: the last to finish). */
const kRequest = Symbol("tako.bun.request");
type BunSocket = Http1Socket & {
  [kState]?: ConnState;
  [kRequest]?: IncomingMessage;
  _httpMessage?: unknown;
};

/**
 * Bun's node:http calls `socket.destroySoon()` after a response that ends the connection, and
 * destroys the socket at once: with request body bytes still arriving, the kernel resets the
 * connection and the client often loses the response (measured: 0 of 20 uploads answered 413
 * mid-body got the status). So, as nginx and Apache do, the connection lingers: the rest of the
 * body is read and thrown away, and the socket is destroyed once it has all arrived, the client
 * closed, {@link LINGER_MAX_BYTES} more were read or {@link LINGER_MAX_MS} passed, whichever is
 * first. The connection stays tracked (its slot; the drain deadline cuts it).
 */
function lingeringClose(this: BunSocket): void {
  const req = this[kRequest];
  if (req === undefined || req.complete || req.destroyed || this.destroyed) {
    (Object.getPrototypeOf(this) as Socket).destroySoon.call(this);
    return;
  }
  this[kRequest] = undefined;
  const close = (): void => {
    clearTimeout(timer);
    this.destroy();
  };
  const timer = setTimeout(close, LINGER_MAX_MS);
  this.once("close", () => clearTimeout(timer));
  let left = LINGER_MAX_BYTES;
  // Whoever was reading the body is done with it: discard it in flowing mode.
  req.removeAllListeners("readable");
  req.removeAllListeners("data");
  req.on("data", (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) close();
  });
  req.once("end", close);
  req.once("close", close);
  req.resume();
}

/**
 * How often the deadlines are checked: a quarter of the shortest, between 10 ms and 1 s (as
 * node:http checks its header timeout), so a deadline fires at most that late.
 */
function sweepInterval(deadlines: readonly (number | null)[]): number | null {
  const set = deadlines.filter((d): d is number => d !== null);
  if (set.length === 0) return null;
  return Math.max(10, Math.min(1000, Math.floor(Math.min(...set) / 4)));
}

/**
 * HTTP/1.1 on the runtime's node:http listening on the port itself (`createServer().listen()`):
 * Deno's path for a router with WebSocket routes (written for Bun, where it was measured and
 * once served; on Deno the same calls hold, tested by the same suites). On Bun, Bun's
 * own HTTP parser (the one `Bun.serve` uses) feeds node:http's request/response objects, with no
 * node:net hand-off. Bun's node:http ignores node's `headersTimeout`/`keepAliveTimeout` and sets
 * no idle timeout, but it reports every connection through `'connection'` (at the first bytes,
 * or within about a second for a connection that sends nothing; measured, Bun 1.4.5), and a
 * reported socket can be written to and destroyed. So tako keeps, per connection:
 *
 * - the cap (`connectionCap`) in the {@link Lifecycle} kernel: at the cap the oldest idle
 *   connection is shed, else the new one gets 503 and is closed;
 * - the deadlines ({@link http1Deadlines}), checked by one sweep (see {@link sweepInterval}):
 *   the first head within `headerReadTimeout` (else 408 and close; a slow drip does not extend
 *   it; Bun's parser itself closes a head still incomplete about 10 s after connect, measured
 *   Bun 1.4.5), the next one within `min(keepAliveTimeout, headerReadTimeout)` after the
 *   last response (else closed), whether the handler was sync or async;
 * - the drain: stop listening, close idle connections (swept until the last is gone), responses
 *   carry `Connection: close`, and Bun closes a connection after such a response.
 *
 * After a response that ends the connection with the request body unread (413), Bun's server
 * reads and discards the rest before closing, so the client gets the status (measured 20/20).
 */
export class ListeningHttp1 {
  readonly #http: HttpServer;
  #router: Dispatcher | null = null;
  #lifecycle: Lifecycle<unknown> | null = null;
  #ctx: SendContext = { router: null as unknown as Dispatcher, closeAfterResponse: false };
  #Request: typeof NodeRequest = NodeRequest;
  /** Marked at the drain deadline (`req.signal`'s reason). */
  readonly #served: ServedState = servedState();
  /** Connections seen (admitted, once serving): what the deadline sweep walks. */
  readonly #conns = new Set<BunSocket>();
  /** Requests that arrived before a router was attached. */
  #queued: [IncomingMessage, ServerResponse][] | null = [];
  #firstHead = Infinity;
  #nextHead = Infinity;
  /** Below this body rate (bytes/s) an upload counts as stalled at the cap; `null`: never. */
  #minRate: number | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #sweep: ReturnType<typeof setInterval> | null = null;
  #listening = false;
  /** A Unix listener's path (as tako shows it), noted on each connection for `req.conn`; `null` on TCP. */
  #unixPath: string | null = null;
  /** WebSocket upgrades (`ws` on Bun's node:http); upgrade requests that came before a router wait in `#queuedUpgrades`. */
  #upgrades: NodeWsUpgrades | null = null;
  #queuedUpgrades: [IncomingMessage, Socket, Buffer][] | null = [];

  constructor() {
    const http = createServer({ IncomingMessage: Incoming }, (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket as BunSocket;
      socket[kRequest] = req;
      socket[kResponse] = res;
      const state = socket[kState];
      if (state !== undefined) state.requests++;
      const router = this.#router;
      if (router === null) this.#queued?.push([req, res]);
      else this.#handle(router, req, res);
    });
    http.on("connection", (socket: Socket) => this.#accepted(socket as BunSocket));
    http.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (this.#upgrades !== null) this.#upgrades.handle(req, socket, head);
      else if (this.#queuedUpgrades !== null) this.#queuedUpgrades.push([req, socket, head]);
      else socket.destroy();
    });
    http.on("clientError", (error: Error & { code?: string }, socket: Socket) => answerClientError(error, socket as BunSocket, this.#firstHead, bunClientErrorAnswer));
    this.#http = http;
  }

  #handle(router: Dispatcher, req: IncomingMessage, res: ServerResponse): void {
    answerRequest(router, new this.#Request(req, res), req, res, this.#ctx);
  }

  /**
   * Binds and listens on a TCP address or a Unix socket path; resolves once listening. No
   * `reusePort`: node:http's `listen()` does not pass it on (Bun's passes it only inside a
   * node:cluster worker; measured, Bun 1.4.5), so a shared port never comes here.
   */
  listen(target: { readonly host: string; readonly port: number } | { readonly path: string; readonly mode: number | null }): Promise<SocketAddr> {
    return new Promise((resolve, reject) => {
      const http = this.#http;
      http.once("error", reject);
      const listening = (): void => {
        http.off("error", reject);
        this.#listening = true;
        const a = http.address();
        if ("path" in target) {
          try {
            applyMode(target);
          } catch (error) {
            this.abandon();
            return reject(error);
          }
          this.#unixPath = displayPath(target.path);
          return resolve({ address: this.#unixPath, port: 0, family: "unix" });
        }
        if (a === null || typeof a === "string") return reject(new Error("listener is not bound to a TCP address"));
        resolve({ address: a.address, port: a.port, family: a.family === "IPv6" ? "IPv6" : "IPv4" });
      };
      if ("path" in target) http.listen({ path: target.path }, listening);
      else http.listen({ host: target.host, port: target.port }, listening);
    });
  }

  /**
   * Serves `router` with `config`'s policy, fed to `lifecycle`: the connections seen so far are
   * admitted under the cap (the deadlines count from when each was seen), the requests that
   * waited for a router are answered.
   */
  serve(router: Dispatcher, config: ServerConfig, lifecycle: Lifecycle<unknown>): void {
    this.#lifecycle = lifecycle;
    this.#ctx = { router, closeAfterResponse: !config.keepAlive };
    this.#Request = nodeRequestClass(bodyDeadline(config), config, this.#served);
    this.#minRate = config.bodyReadTimeout === null ? null : (config.bodyMinRate ?? 1);
    const { firstHead, nextHead } = http1Deadlines(config);
    this.#firstHead = firstHead ?? Infinity;
    this.#nextHead = nextHead ?? Infinity;
    const every = sweepInterval([firstHead, nextHead]);
    if (every !== null) this.#timer = setInterval(() => this.#check(), every);
    for (const socket of this.#conns) this.#admit(socket);
    this.#router = router;
    const queued = this.#queued ?? [];
    this.#queued = null;
    for (const [req, res] of queued) if (!req.socket.destroyed) this.#handle(router, req, res);
    const upgrades = (this.#upgrades = new NodeWsUpgrades(router, this.#Request));
    const waiting = this.#queuedUpgrades ?? [];
    this.#queuedUpgrades = null;
    for (const [req, socket, head] of waiting) if (!socket.destroyed) upgrades.handle(req, socket, head);
  }

  /**
   * Gives the port up (another server takes it in this same turn): stops listening and closes
   * the connections seen so far, which Bun's HTTP/1.1 parser has been reading.
   */
  abandon(): void {
    this.stopAccepting();
    this.#queued = null;
    this.#queuedUpgrades = null;
    for (const socket of this.#conns) socket.destroy();
    this.#http.closeAllConnections();
  }

  #accepted(socket: BunSocket): void {
    socket.on("error", ignoreError);
    socket.destroySoon = lingeringClose;
    socket[kState] = { since: Date.now(), requests: 0, seen: 0 };
    if (this.#unixPath !== null) markUnix(socket, this.#unixPath);
    this.#conns.add(socket);
    if (this.#lifecycle !== null) this.#admit(socket);
    else socket.once("close", () => this.#conns.delete(socket));
  }

  /** Tracks `socket` in the kernel, or refuses it over the cap. */
  #admit(socket: BunSocket): void {
    const lifecycle = this.#lifecycle!;
    if (socket.destroyed) return;
    if (!lifecycle.admit(socket)) {
      this.#conns.delete(socket);
      refuseWith(socket, BUSY_HTTP1);
      return;
    }
    socket.once("close", () => {
      this.#conns.delete(socket);
      lifecycle.release(socket);
    });
  }

  /**
   * The deadline sweep. A connection waiting for its first head past `headerReadTimeout` gets
   * 408 and is closed; one idle after its last response past the between-requests deadline is
   * closed. A request that started since the last sweep restarts the wait.
   */
  #check(): void {
    const now = Date.now();
    for (const socket of this.#conns) {
      if (isUpgraded(socket)) continue; // a WebSocket: no HTTP deadline applies
      const state = socket[kState]!;
      if (socket._httpMessage != null) {
        state.since = -1;
        state.seen = state.requests;
        continue;
      }
      if (state.since === -1 || state.seen !== state.requests) {
        state.since = now;
        state.seen = state.requests;
        continue;
      }
      if (state.requests === 0) {
        if (now - state.since >= this.#firstHead) timeOut(socket);
      } else if (now - state.since >= this.#nextHead) socket.destroy();
    }
  }

  /** No request in flight (a head still arriving, or kept alive between requests), or a stalled upload. */
  idle(socket: Socket): boolean {
    if (isUpgraded(socket)) return false;
    const res = (socket as BunSocket)._httpMessage as ServerResponse | null | undefined;
    const minRate = this.#minRate;
    return res == null || (minRate !== null && stalledBody(res.req as Incoming, minRate));
  }

  stopAccepting(): void {
    if (!this.#listening) return;
    this.#listening = false;
    this.#http.close();
  }

  drain(): void {
    if (this.#sweep !== null) return;
    this.#ctx.closeAfterResponse = true;
    this.#upgrades?.hub.drain();
    this.#http.closeIdleConnections();
    // A connection whose response was under way when the drain began goes idle after it.
    this.#sweep = setInterval(() => this.#http.closeIdleConnections(), DRAIN_SWEEP_MS);
  }

  destroyAll(): void {
    this.#served.forced = true;
    for (const socket of this.#conns) socket.destroy();
    this.#http.closeAllConnections();
  }

  /** Releases the timers and whatever Bun still holds (a connection not reported yet). */
  release(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
    this.#http.closeAllConnections();
  }
}

/**
 * Serves `spec` (HTTP/1.1, PROXY off) on `h1`, a node:http server listening itself, under the
 * lifecycle kernel: `lifecycle` starts now (its `ready` resolves, and a drain asked for before is
 * replayed), so call this once `h1` is listening. Bun's default HTTP/1.1 path, and Deno's for a
 * router with WebSocket routes.
 */
export function serveNodeHttp(h1: ListeningHttp1, spec: ServeSpec, lifecycle: Lifecycle<unknown> = new Lifecycle<unknown>()): Lifecycle<unknown> {
  lifecycle.start(
    {
      stopAccepting: () => {
        h1.stopAccepting();
        lifecycle.listenerClosed();
      },
      drainConnections: () => h1.drain(),
      destroyConnections: () => h1.destroyAll(),
      released: () => h1.release(),
      idle: (conn) => h1.idle(conn as Socket),
      shed: (conn) => (conn as Socket).destroy(),
      peer: (conn) => conn as Socket,
    },
    connectionCap(spec.config),
  );
  h1.serve(spec.router, spec.config, lifecycle);
  return lifecycle;
}

/** 408 and close; a peer that does not read is cut after a second. */
function timeOut(socket: Socket): void {
  if (socket.writableEnded) return;
  socket.end(REQUEST_TIMEOUT);
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** tako's answers to a malformed request stream on Bun: Node's, and 505 for a bad HTTP version. */
function bunClientErrorAnswer(code: string | undefined): string {
  // Bun's parser refuses a version other than HTTP/1.0 and 1.1 (also what a space in the
  // target leaves in the version's place): 505, as tako answers it on Node.
  if (code === "HPE_INVALID_VERSION") return "HTTP/1.1 505 HTTP Version Not Supported\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
  return clientErrorAnswer(code);
}
