/**
 * `adapters/wire/`: the runtime-neutral half of tako's raw-socket servers, shared by the Bun
 * engine (`Bun.listen`) and the Deno engine (`Deno.listen`, `Deno.listenTls`): the request base
 * and its body pipe, and HTTP/2 on tako's codec (connection, request, send path), written
 * against a small socket interface ({@link H2Socket}) each runtime implements.
 */

import { type BodyDeadline, joinBytes } from "../../core/body.ts";
import { type ConnInfo, SocketConnInfo } from "../../core/conn-info.ts";
import { clientGone, drainDeadline, type TakoError } from "../../core/errors.ts";
import { type H2ConnectionOptions, type H2Error, type H2Handler, type H2RequestHead, H2ServerConnection } from "../../core/http2/index.ts";
import type { ProxyHeader } from "../../core/proxy-protocol/index.ts";
import type { HandlerResult } from "../../core/responder.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import { h2Goaway, type Peer, publishGoaway, requestStart, traceDispatch } from "../shared/diagnostics.ts";
import { WireH2Request, type H2StreamHost } from "./h2-request.ts";
import { type H2SendHost, sendH2 } from "./h2-send.ts";

/** What an HTTP/2 connection reads of its server (the listener and its policy). */
export interface H2ServerFacts {
  readonly router: Dispatcher;
  readonly dateHeader: readonly string[];
  readonly textHeaders: readonly string[];
  readonly jsonHeaders: readonly string[];
  readonly bodyDeadline: BodyDeadline | null;
  readonly handlerTimeout: number | null;
  /** The drain deadline cut the connections: `req.signal` says so. */
  readonly forced: boolean;
  /** A drain started: a connection made now gets GOAWAY at once. */
  readonly closing: boolean;
  /** The codec's limits (`h2*` config fields). */
  readonly h2Options: H2ConnectionOptions;
  /** `headerReadTimeout`: the first request head within it (ms, `Infinity`: off). */
  readonly h2FirstHead: number;
  /** `keepAliveTimeout`: GOAWAY after this long without an open stream (ms, `Infinity`: off). */
  readonly h2Idle: number;
  /** `h2KeepAliveInterval`: a PING this often, the connection closed when the last one went unanswered (ms, `Infinity`: off). */
  readonly h2Ping: number;
}

/**
 * What an HTTP/2 connection needs of the socket it runs on: the Bun engine's `H1Conn` over a
 * `Bun.listen` socket, the Deno engine's `H1Conn` over a `DenoWireSocket` (a `Deno.Conn` or `Deno.TlsConn`).
 */
export interface H2Socket {
  /** Writes in order (queued while the kernel is full). */
  write(bytes: Uint8Array): void;
  /** Bytes written but not taken by the kernel yet. */
  readonly buffered: number;
  /** The connection's facts as HTTP/1.1 would report them (addresses, TLS, PROXY). */
  connInfo(): ConnInfo;
  /** The peer's address, for diagnostics. */
  peer(): Peer;
  /** The codec is done: FIN once every byte is written, reading and dropping input for a bounded time. */
  finish(): void;
  /** Closes at once. */
  destroy(): void;
}

/**
 * One HTTP/2 connection on a raw socket ({@link H2Socket}): its bytes through tako's codec
 * ({@link H2ServerConnection}), each stream a {@link WireH2Request} dispatched to the router
 * when its head is complete, its response written by {@link sendH2}. The codec enforces the
 * protocol and the `h2*` limits (streams, header list, send buffer, rapid resets, control-frame
 * and no-work floods); this class adds the deadlines, checked by the server's sweep
 * ({@link sweep}): the first request within `headerReadTimeout`, GOAWAY after
 * `keepAliveTimeout` with no open stream, a PING every `h2KeepAliveInterval`. The drain is a
 * GOAWAY (streams in flight finish); the socket closes when the codec reports `onClose`.
 */
export class H2Conn implements H2Handler, H2StreamHost, H2SendHost {
  readonly codec: H2ServerConnection;
  readonly #socket: H2Socket;
  readonly #server: H2ServerFacts;
  readonly #streams = new Map<number, WireH2Request>();
  #info: ConnInfo | null = null;
  /** Requests started on this connection. */
  requests = 0;
  /** The last time a stream opened or ended (or the connection opened), for the idle deadline. */
  #active: number;
  #lastPing: number;
  #awaitingPing = false;
  #writable = true;
  #ended = false;
  /** Output not handed to the socket yet: everything written in one read, or in one turn of microtasks, goes out as one write. */
  #out: Uint8Array[] = [];
  #inData = false;
  #scheduled = false;

  constructor(socket: H2Socket, server: H2ServerFacts, now: number) {
    this.#socket = socket;
    this.#server = server;
    this.#active = this.#lastPing = now;
    this.codec = new H2ServerConnection(this, server.h2Options);
  }

  /** Writes the server's preface; a connection opened during the drain gets GOAWAY at once. */
  start(): void {
    this.codec.start();
    if (this.#server.closing) this.goaway("drain");
  }

  // ---- socket events (from the shell)

  data(chunk: Uint8Array): void {
    this.#inData = true;
    try {
      this.codec.receive(chunk);
    } finally {
      this.#inData = false;
    }
    this.#send();
  }

  /** The kernel took every byte written. */
  flushed(): void {
    if (this.#writable || this.#ended) return;
    this.#writable = true;
    this.codec.setWritable(true);
  }

  /** The socket closed: every stream still at work is given up. */
  closed(): void {
    this.#ended = true;
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (const req of streams) req.gone();
  }

  // ---- H2Handler

  /**
   * Hot path: the codec's output is gathered and handed to the socket once per read, or once
   * per turn of microtasks for responses given asynchronously (each response's HEADERS and DATA,
   * and all responses resolved together, in one write instead of two per response).
   */
  write(bytes: Uint8Array): void {
    this.#out.push(bytes);
    if (this.#inData || this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#flushOut);
  }

  readonly #flushOut = (): void => {
    this.#scheduled = false;
    this.#send();
  };

  #send(): void {
    const out = this.#out;
    if (out.length === 0) return;
    this.#out = [];
    const socket = this.#socket;
    socket.write(out.length === 1 ? out[0]! : joinBytes(out));
    if (this.#writable && socket.buffered > 0 && !this.codec.closed) {
      this.#writable = false;
      this.codec.setWritable(false);
    }
  }

  onRequest(streamId: number, head: H2RequestHead, endStream: boolean): void {
    this.requests++;
    this.#active = Date.now();
    const req = new WireH2Request(streamId, head, this, !endStream);
    this.#streams.set(streamId, req);
    const router = this.#server.router;
    const result = requestStart.hasSubscribers ? traceDispatch(router, req) : router.dispatch(req);
    if (result instanceof Promise) {
      result.then(
        (value) => sendH2(this, req, value),
        (error: unknown) => sendH2(this, req, router.recover(error, req) as HandlerResult),
      );
    } else sendH2(this, req, result);
  }

  onData(streamId: number, bytes: Uint8Array): void {
    const pipe = this.#streams.get(streamId)?.pipe;
    if (pipe == null) this.codec.consume(streamId, bytes.length);
    else pipe.push(bytes);
  }

  onEnd(streamId: number): void {
    const req = this.#streams.get(streamId);
    if (req === undefined) return;
    req.pipe?.end();
    if (req.finished) this.#forget(req);
  }

  onReset(streamId: number): void {
    const req = this.#streams.get(streamId);
    if (req === undefined) return;
    this.#forget(req);
    req.gone();
  }

  onDrain(streamId: number): void {
    this.#streams.get(streamId)?.wake();
  }

  onClose(error: H2Error | null): void {
    if (error !== null && h2Goaway.hasSubscribers) publishGoaway(error.code, error.code === 0xb ? "abuse" : "protocol error", this.#socket.peer());
    this.#ended = true;
    this.#send();
    this.#socket.finish();
  }

  onPingAck(): void {
    this.#awaitingPing = false;
  }

  // ---- H2StreamHost, H2SendHost

  connInfo(): ConnInfo {
    if (this.#info === null) {
      const c = this.#socket.connInfo();
      this.#info = new SocketConnInfo(c.remoteAddress, c.remotePort, c.localAddress, c.localPort, "2.0", c.tls, c.proxy, c.family ?? undefined);
    }
    return this.#info;
  }

  get proxyHeader(): ProxyHeader | null {
    return this.connInfo().proxy;
  }

  get bodyDeadline(): BodyDeadline | null {
    return this.#server.bodyDeadline;
  }

  get handlerTimeout(): number | null {
    return this.#server.handlerTimeout;
  }

  goneReason(): TakoError {
    return this.#server.forced ? drainDeadline() : clientGone();
  }

  consume(streamId: number, n: number): void {
    this.codec.consume(streamId, n);
  }

  get router(): Dispatcher {
    return this.#server.router;
  }

  get dateHeader(): readonly string[] {
    return this.#server.dateHeader;
  }

  get textHeaders(): readonly string[] {
    return this.#server.textHeaders;
  }

  get jsonHeaders(): readonly string[] {
    return this.#server.jsonHeaders;
  }

  respond(streamId: number, status: number, headers: readonly string[], endStream: boolean): boolean {
    return this.codec.respond(streamId, status, headers, endStream);
  }

  sendData(streamId: number, bytes: Uint8Array, end: boolean): boolean {
    return this.codec.sendData(streamId, bytes, end);
  }

  reset(streamId: number, code: number): void {
    this.codec.reset(streamId, code);
  }

  responseDone(req: WireH2Request): void {
    req.completed();
    this.#active = Date.now();
    if (req.pipe === null || req.pipe.done) this.#forget(req);
  }

  #forget(req: WireH2Request): void {
    if (this.#streams.get(req.streamId) === req) this.#streams.delete(req.streamId);
    this.#active = Date.now();
  }

  // ---- policy

  /** No stream open: the connection may be shed at the cap. */
  get idle(): boolean {
    return this.codec.streamCount === 0;
  }

  /** GOAWAY NO_ERROR (reported with `reason`): streams in flight finish, then the socket closes. */
  goaway(reason: string): void {
    if (this.codec.closed || this.#ended) return;
    if (h2Goaway.hasSubscribers) publishGoaway(0, reason, this.#socket.peer());
    this.codec.goaway();
  }

  /** The deadlines, checked by the server's sweep at `now`. */
  sweep(now: number): void {
    if (this.codec.closed || this.#ended) return;
    // The codec's own deadline: our SETTINGS acknowledged in time (else GOAWAY SETTINGS_TIMEOUT).
    this.codec.sweep(now);
    if (this.codec.closed) return;
    const server = this.#server;
    if (this.requests === 0 && now - this.#active >= server.h2FirstHead) {
      // No request in time (the preface, SETTINGS, the first HEADERS): closed, as Node's path does.
      this.#ended = true;
      return this.#socket.destroy();
    }
    if (this.codec.streamCount === 0 && now - this.#active >= server.h2Idle) return this.goaway("idle");
    // Before the first request the first-head deadline covers the peer (a PING then would reach a
    // client that has not sent its preface yet, whose ACK could not be one).
    if (this.requests > 0 && now - this.#lastPing >= server.h2Ping) {
      // No answer to the previous PING within an interval: the peer is gone.
      if (this.#awaitingPing) {
        this.#ended = true;
        return this.#socket.destroy();
      }
      this.#lastPing = now;
      this.#awaitingPing = true;
      this.codec.ping();
    }
  }
}
