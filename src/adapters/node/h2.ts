import { constants, createServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import type { ConnInfo } from "../../core/conn-info.ts";
import type { ProxyHeader } from "../../core/proxy-protocol/index.ts";
import { connInfoOf } from "./conn.ts";
import { proxyOf } from "./proxy-transport.ts";
import type { ServerConfig } from "../../core/config.ts";
import { type BodyDeadline, bodyDeadline } from "../../core/body.ts";
import { FrameBudget, h2Refusal, H2_ENHANCE_YOUR_CALM, H2_NO_ERROR, ResetBudget } from "../../core/h2.ts";
import { TEXT_TYPE } from "../../core/responder.ts";
import { Reply } from "../../core/response.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import { Deadline } from "../shared/deadline.ts";
import { h2Goaway, publishGoaway, requestStart, traceDispatch } from "../shared/diagnostics.ts";
import { refuseWith } from "./acceptor.ts";
import { H2Request } from "./h2-request.ts";
import { type ServedState, servedState } from "./request.ts";
import { sendH2, type H2SendContext } from "./h2-send.ts";
import type { Transport } from "./transport.ts";

const { NGHTTP2_FLAG_END_STREAM } = constants;

/** How long an abusive peer has to read its GOAWAY before the connection is closed. */
const CALM_GRACE_MS = 500;

/** Sent to an h2c connection over `maxConnections`: SETTINGS, then GOAWAY(0, NO_ERROR) with the reason. */
const BUSY_H2 = h2Refusal(H2_NO_ERROR, "server at connection limit");

/**
 * One HTTP/2 connection's policy state: deadlines, abuse budgets, open streams. Kept on the
 * session under a symbol so per-stream code reaches it without a lookup.
 */
export class H2Conn {
  readonly socket: Socket;
  session: Http2Session | null = null;
  /** Streams opened and not yet closed. */
  streams = 0;
  /** Until the first request head arrives: `headerReadTimeout`. */
  readonly headerDeadline = new Deadline();
  pingTimer: ReturnType<typeof setInterval> | null = null;
  awaitingPing = false;
  readonly resets: ResetBudget;
  readonly control = new FrameBudget();
  #conn: ConnInfo | null = null;
  #calmed = false;
  /** `keepAliveTimeout`, once the connection has been idle. */
  idleMs: number | null = null;
  #idleSince = 0;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;

  /** The PROXY header the connection opened with (read before HTTP/2 began), or `null`. */
  readonly proxy: ProxyHeader | null;
  readonly bodyDeadline: BodyDeadline | null;
  readonly handlerTimeout: number | null;
  /** The server's state (marked at the drain deadline). */
  readonly served: ServedState;

  constructor(socket: Socket, config: ServerConfig, served: ServedState) {
    this.socket = socket;
    this.proxy = proxyOf(socket);
    this.resets = new ResetBudget(config.h2MaxPendingAcceptResetStreams);
    this.bodyDeadline = bodyDeadline(config);
    this.handlerTimeout = config.handlerTimeout;
    this.served = served;
  }

  /** The connection facts every stream of this connection shares (built once). */
  get conn(): ConnInfo {
    if (this.#conn === null) {
      this.#conn = connInfoOf(this.socket, "2.0");
    }
    return this.#conn;
  }

  /**
   * Abuse: GOAWAY ENHANCE_YOUR_CALM, stop reading the peer at once, and close the connection
   * after a short grace. Closing with unread input resets the TCP connection, and a peer still
   * writing then loses the GOAWAY it had not read yet. So the session is also marked closed
   * (`close()`, which adds a GOAWAY NO_ERROR): when nghttp2's own flood guard destroys it a
   * moment later (more than 1,000 queued SETTINGS/PING ACKs in one read), node:http2 then
   * half-closes the socket and discards further input instead of resetting at once. The
   * grace timer ends the connection either way.
   */
  calm(): void {
    if (this.#calmed) return;
    this.#calmed = true;
    const session = this.session;
    try {
      if (session !== null && !session.destroyed) {
        if (h2Goaway.hasSubscribers) publishGoaway(H2_ENHANCE_YOUR_CALM, "abuse", this.socket);
        session.goaway(H2_ENHANCE_YOUR_CALM);
        session.close();
      }
    } catch {
      // already closing
    }
    this.socket.pause();
    setTimeout(() => {
      session?.destroy();
      this.socket.destroy();
    }, CALM_GRACE_MS).unref();
  }

  /**
   * `keepAliveTimeout` on HTTP/2: a connection without an open stream for that long is closed
   * gracefully (GOAWAY). Called whenever the last stream closes; one timer per connection,
   * re-armed only when it fires early.
   */
  idle(ms: number): void {
    this.idleMs = ms;
    this.#idleSince = Date.now();
    if (this.#idleTimer !== null) return;
    const check = (): void => {
      this.#idleTimer = null;
      if (this.streams !== 0) return; // busy: re-armed when the last stream closes
      const left = this.#idleSince + ms - Date.now();
      if (left > 0) this.#idleTimer = setTimeout(check, left);
      else if (this.session !== null) closeSession(this.session, "idle");
    };
    this.#idleTimer = setTimeout(check, ms);
  }

  clearTimers(): void {
    this.headerDeadline.clear();
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.pingTimer = this.#idleTimer = null;
  }
}

const kConn = Symbol("tako.h2conn");
type TaggedSession = Http2Session & { [kConn]?: H2Conn };

/** node:http2 options for `config`: the H2 caps go to nghttp2 (advertised in SETTINGS and enforced). */
function http2Options(config: ServerConfig): Parameters<typeof createServer>[0] {
  return {
    settings: {
      maxConcurrentStreams: config.h2MaxConcurrentStreams,
      maxHeaderListSize: config.h2MaxHeaderListSize,
      enablePush: false,
    },
    // Streams refused past maxConcurrentStreams before the session is torn down.
    maxSessionRejectedStreams: 100,
    // Invalid frames (empty DATA, bad windows …) tolerated per session.
    maxSessionInvalidFrames: 100,
    maxOutstandingPings: 10,
  };
}

function onStreamClose(this: ServerHttp2Stream & { [kConn]?: H2Conn }): void {
  const conn = this[kConn];
  if (conn !== undefined && --conn.streams === 0 && conn.idleMs !== null) conn.idle(conn.idleMs);
}

function onStreamAborted(this: ServerHttp2Stream & { [kConn]?: H2Conn }): void {
  const conn = this[kConn];
  if (conn?.resets.reset()) conn.calm();
}

const ignore = (): void => {};

/** Graceful close: node:http2 sends GOAWAY NO_ERROR with the last stream id, then closes after the last stream. */
function closeSession(session: Http2Session, reason: string): void {
  if (h2Goaway.hasSubscribers && !session.closed && !session.destroyed) publishGoaway(0, reason, session.socket);
  session.close();
}

const HEADERS_TOO_LARGE = new Reply("Request Header Fields Too Large", 431, { "content-type": TEXT_TYPE });

/** RFC 9113 §6.5.2: the size of a header list is the sum of name + value + 32 octets per field. */
function headerListSize(raw: string[]): number {
  let size = 0;
  for (let i = 0; i < raw.length; i++) size += raw[i]!.length + 16;
  return size;
}

/** The h2c transport: node:http2's stream API fed accepted connections, with tako's policies on top. */
export function h2Transport(router: Dispatcher, config: ServerConfig, served: ServedState = servedState()): Transport {
  const ctx: H2SendContext = { router, maxSendBuf: config.h2MaxSendBufSize };
  const server: Http2Server = createServer(http2Options(config));
  const sessions = new Set<Http2Session>();
  let draining = false;
  /** The connection being handed to node:http2 (its 'session' event fires synchronously). */
  let handing: H2Conn | null = null;

  server.on("session", (session: TaggedSession) => {
    const conn = handing;
    if (conn === null) return;
    handing = null;
    conn.session = session;
    session[kConn] = conn;
    sessions.add(session);
    session.on("error", ignore);
    session.once("close", () => {
      sessions.delete(session);
      conn.clearTimers();
    });
    session.on("ping", () => {
      if (conn.control.hit(Date.now())) conn.calm();
    });
    session.on("remoteSettings", () => {
      if (conn.control.hit(Date.now())) conn.calm();
    });
    if (config.keepAliveTimeout !== null) conn.idle(config.keepAliveTimeout);
    if (config.h2KeepAliveInterval !== null) {
      conn.pingTimer = setInterval(() => {
        // A closing session (GOAWAY sent) finishes its streams without PINGs.
        if (session.closed || session.destroyed) return conn.clearTimers();
        // No answer to the previous PING within an interval: the peer is gone.
        if (conn.awaitingPing) return session.destroy();
        conn.awaitingPing = true;
        session.ping((error) => {
          if (error === null) conn.awaitingPing = false;
        });
      }, config.h2KeepAliveInterval);
    }
    if (draining) closeSession(session, "drain");
  });

  const maxHeaderList = config.h2MaxHeaderListSize;
  server.on("stream", (stream: ServerHttp2Stream & { [kConn]?: H2Conn }, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    const conn = (stream.session as TaggedSession | undefined)?.[kConn];
    if (conn === undefined) return stream.close();
    conn.headerDeadline.clear();
    conn.streams++;
    stream[kConn] = conn;
    stream.on("close", onStreamClose);
    stream.on("error", ignore);
    const request = new H2Request(stream, headers, (flags & NGHTTP2_FLAG_END_STREAM) !== 0, conn);
    // nghttp2 applies its header-list limit only once the client has acknowledged our SETTINGS,
    // so the first streams of a connection could pass it: check every stream here.
    if (headerListSize(rawHeaders) > maxHeaderList) return sendH2(stream, HEADERS_TOO_LARGE, request, ctx, false);
    const result = requestStart.hasSubscribers ? traceDispatch(router, request) : router.dispatch(request);
    if (result instanceof Promise) {
      stream.on("aborted", onStreamAborted);
      result.then(
        (value) => sendH2(stream, value, request, ctx, true),
        (error: unknown) => sendH2(stream, router.recover(error, request), request, ctx, true),
      );
    } else sendH2(stream, result, request, ctx, false);
  });

  return {
    // node:http2 reads put-back bytes itself.
    handOff: "paused",
    refuse: (socket) => refuseWith(socket, BUSY_H2),
    accept(socket) {
      const conn = new H2Conn(socket, config, served);
      (socket as Socket & { [kConn]?: H2Conn })[kConn] = conn;
      // The preface, SETTINGS and a first complete request head must arrive in time.
      conn.headerDeadline.arm(config.headerReadTimeout, () => {
        if (conn.session !== null) conn.session.destroy();
        socket.destroy();
      });
      socket.once("close", () => conn.clearTimers());
      handing = conn;
      server.emit("connection", socket);
      handing = null;
    },
    drain() {
      if (draining) return;
      draining = true;
      // GOAWAY with the last stream id: in-flight streams finish, new ones are refused, and
      // node:http2 closes each session after its last stream.
      for (const session of sessions) closeSession(session, "drain");
    },
    close() {
      for (const session of sessions) session.destroy();
      server.close();
    },
    // No open stream: the preface or a first head still arriving, or idle between streams.
    idle: (socket) => ((socket as Socket & { [kConn]?: H2Conn })[kConn]?.streams ?? 0) === 0,
  };
}
