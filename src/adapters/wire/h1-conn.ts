import { SocketConnInfo, type ConnInfo } from "../../core/conn-info.ts";
import { type ProxyHeaderReader, ProxyProtocolError, type ProxyHeader } from "../../core/proxy-protocol/index.ts";
import { type BodyDeadline, joinBytes } from "../../core/body.ts";
import { clientGone, drainDeadline, type TakoError } from "../../core/errors.ts";
import { Http1ParseError } from "../../core/http1/errors.ts";
import { headProblem } from "../../core/http1/head-rules.ts";
import { Http1Parser, type Http1RequestHead, type Http1Sink } from "../../core/http1/parser.ts";
import { serializeResponseHead } from "../../core/http1/response.ts";
import { prefaceMatch } from "../../core/h2.ts";
import { readClientHello } from "../../core/client-hello.ts";
import { errorReply, type HandlerResult } from "../../core/responder.ts";
import { HttpError } from "../../core/errors.ts";
import { upgradeOf } from "../../core/websocket/index.ts";
import { LINGER_MAX_BYTES, LINGER_MAX_MS } from "../node/http1.ts";
import { connectionRefused, type Peer, publishConnection, requestStart, traceDispatch } from "../shared/diagnostics.ts";
import { proxiedClient } from "../shared/proxied-headers.ts";
import type { RateSample } from "../shared/rate.ts";
import { type BodyOwner, BodyPipe } from "./body-pipe.ts";
import { H1Request } from "./h1-request.ts";
import type { RequestHost } from "./request.ts";
import { H2Conn, type H2Socket } from "./h2-conn.ts";
import { send, sendReply } from "./h1-send.ts";
import type { H1Server } from "./h1-server.ts";
import { Outbox } from "./outbox.ts";
import type { TlsChoice, WireSocket, WireTls } from "./socket.ts";
import { WireSocketDuplex } from "./socket-duplex.ts";
import { handshakeHead } from "./h1-upgrade.ts";

const OPEN = 0;
/** The last response is out; the rest of an unread request body is read and dropped (bounded). */
const LINGER = 1;
/** Closing: the last bytes are flushed, then FIN. */
const ENDING = 2;
const CLOSED = 3;
/** Upgraded to WebSocket: the socket is `ws`'s (through {@link WireSocketDuplex}), no HTTP any more. */
const UPGRADED = 4;

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
const EMPTY = new Uint8Array(0);

/** Bytes kept before a handshake whose certificate is being chosen (the hello, bounded by `readClientHello`, and what follows it meanwhile). */
const HELLO_BYTES_MAX = 128 * 1024;
/** Fatal TLS alerts (a TLS 1.2 record, which every client version reads): unrecognized_name (112), handshake_failure (40). */
const ALERT_UNRECOGNIZED_NAME = Uint8Array.of(0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 112);
const ALERT_HANDSHAKE_FAILURE = Uint8Array.of(0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40);

/** How long a connection whose HTTP/2 codec is done keeps reading (and dropping) what the peer still sends. */
const H2_LINGER_MS = 2000;

/** True when the head carries `Expect: 100-continue` (any case). */
function expectsContinue(head: Http1RequestHead): boolean {
  const raw = head.headers;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 6 && raw[i]!.toLowerCase() === "expect" && raw[i + 1]!.toLowerCase() === "100-continue") return true;
  }
  return false;
}

/**
 * One HTTP/1.1 connection on a raw socket ({@link WireSocket}: `Bun.listen`'s, or a `Deno.Conn`'s): bytes in through tako's codec, one request in flight
 * at a time. Each request is dispatched when its head is complete (its body streams in while the
 * handler runs); once its body is complete the parser pauses until the response is out, so
 * pipelined requests are answered in order and bytes past the one in flight wait in a buffer
 * (reading is paused meanwhile). Responses written within one read are sent in one write.
 *
 * A response that ends the connection (`Connection: close`, `keepAlive: false`, a drain, a
 * refusal) is the last thing sent; when the request's body is still arriving then, the rest is
 * read and dropped first, within {@link LINGER_MAX_BYTES} and {@link LINGER_MAX_MS}, so the client
 * reads the status rather than a reset (lingering close, as nginx and node/http1.ts).
 */
export class H1Conn implements Http1Sink, BodyOwner, RequestHost, H2Socket {
  /** The accepted TCP (or Unix) socket (on Bun after a TLS upgrade, the handle `upgradeTLS` returned for it: the first one is dead then). */
  raw: WireSocket;
  /** The socket HTTP is read from and written to: {@link raw}, or (Bun) the TLS socket over it. */
  socket: WireSocket;
  /**
   * Until when the connection's opening (its PROXY header, its TLS handshake) may take, checked
   * by the server's sweep; 0 once it is done (or without one).
   */
  gateBy = 0;
  /** The PROXY header the connection opened with (`proxyProtocol`), or `null`. */
  proxyHeader: ProxyHeader | null = null;
  /** Reading the PROXY header: bytes go here before the codec. */
  #proxy: ProxyHeaderReader | null = null;
  /** TLS: the runtime's part of it (from the upgrade on). */
  #tls: WireTls | null = null;
  /** TLS after the PROXY header: the upgrade waits for the header's end. */
  #tlsNext: { readonly tls: WireTls; readonly timeout: number | null } | null = null;
  /** TLS whose certificate is chosen by the ClientHello's server name ({@link WireTls.choose}): the bytes read until the handshake starts. */
  #hello: Uint8Array | null = null;
  /** The hello is read and `choose` is running. */
  #choosing = false;
  readonly server: H1Server;
  readonly parser: Http1Parser;
  /** When the current wait began (accept, or the end of the last response); -1 while a request is in flight. */
  since: number;
  /** Requests started on this connection. */
  requests = 0;
  /** The request in flight: head parsed, response not complete. */
  current: H1Request | null = null;
  #state = OPEN;
  /** Close after the response in flight. */
  closeAfter = false;
  /** The peer sent FIN: close once the requests it sent are answered. */
  #peerEnded = false;
  /** The body of {@link current} is complete (`onComplete` ran). */
  #complete = false;
  /** Bytes read past a request whose response is not out yet. */
  #stash: Uint8Array | null = null;
  #inExecute = false;
  #held = false;
  /** What is written: responses of one read together, queued while the kernel is full. */
  readonly #out: Outbox;
  /** After the last flush: FIN (`"end"`), or FIN with the read side open (`"linger"`). */
  #afterFlush: "end" | "linger" | null = null;
  #pausedBody = false;
  #pausedStash = false;
  #info: ConnInfo | null = null;
  /** Lingering: body bytes that may still be dropped, and until when. */
  #lingerLeft = 0;
  lingerUntil = 0;
  /** Closing: cut at this time if the peer has not closed (0: not set yet). */
  endBy = 0;
  /** The stalled-upload sample (taken at the cap only). */
  rate: RateSample | null = null;
  /** The HTTP/2 connection this socket carries (h2c, or h2 by ALPN); `null` on HTTP/1.1. */
  h2: H2Conn | null = null;
  /** h2c next to HTTP/1.1: the first bytes, until they tell the client preface from a request. */
  #sniff: Uint8Array | null = null;
  #sniffing = false;
  /** Refused at the cap on a port serving both: the refusal waits for the first bytes to pick its protocol. */
  #refusal: { readonly h1: Uint8Array; readonly h2: Uint8Array } | null = null;
  /** After a WebSocket upgrade: the stream `ws` reads and writes the socket through. */
  #tunnel: WireSocketDuplex | null = null;

  constructor(socket: WireSocket, server: H1Server, now: number) {
    this.raw = socket;
    this.socket = socket;
    this.server = server;
    this.since = now;
    this.parser = new Http1Parser(this);
    this.#out = new Outbox(this);
  }

  // ---- RequestHost

  connInfo(): ConnInfo {
    if (this.#info === null) {
      const s = this.raw;
      const unix = this.server.unixPath;
      const proxy = this.proxyHeader;
      const client = proxiedClient(proxy);
      const tls = this.#tls === null ? null : this.#tls.info(this.socket);
      this.#info =
        unix !== null
          ? new SocketConnInfo(client?.address ?? "", client?.port ?? 0, unix, 0, "1.1", tls, proxy, "unix")
          : new SocketConnInfo(
              client?.address ?? s.remoteAddress ?? "",
              client?.port ?? s.remotePort ?? 0,
              s.localAddress ?? this.server.local.address,
              s.localPort ?? this.server.local.port,
              "1.1",
              tls,
              proxy,
            );
    }
    return this.#info;
  }

  get bodyDeadline(): BodyDeadline | null {
    return this.server.bodyDeadline;
  }

  get handlerTimeout(): number | null {
    return this.server.handlerTimeout;
  }

  goneReason(): TakoError {
    return this.server.forced ? drainDeadline() : clientGone();
  }

  // ---- socket events

  /** Bytes from the socket. */
  data(chunk: Uint8Array): void {
    if (this.#state === CLOSED) return;
    if (this.#hello !== null) return this.#helloBytes(chunk);
    const h2 = this.h2;
    if (h2 !== null) {
      if (this.#state === OPEN) h2.data(chunk);
      return;
    }
    if (this.#state === LINGER) return this.#linger(chunk);
    if (this.#state === ENDING) return;
    if (this.#state === UPGRADED) return this.#tunnel!.received(chunk);
    if (this.#stash !== null || this.#held) {
      // Paused, or not served yet: kept for later.
      this.#stash = this.#stash === null ? chunk.slice() : joinBytes([this.#stash, chunk]);
      if (!this.#pausedStash) {
        this.#pausedStash = true;
        this.#syncReading();
      }
      return;
    }
    if (this.#sniffing || this.#refusal !== null) return this.#sniffBytes(chunk);
    this.#out.cork();
    this.#feed(chunk);
    this.#uncork();
  }

  /**
   * h2c next to HTTP/1.1 on one port: the first bytes are compared with the HTTP/2 client preface
   * (`prefaceMatch`); the whole preface makes this an HTTP/2 connection, any other byte an
   * HTTP/1.1 one, and the bytes read so far go to the codec that won.
   */
  #sniffBytes(chunk: Uint8Array): void {
    const seen = this.#sniff === null ? chunk : joinBytes([this.#sniff, chunk]);
    const match = prefaceMatch(seen);
    const refusal = this.#refusal;
    if (refusal !== null) {
      // Over the cap: the refusal in the protocol the client opened with (the preface so far: HTTP/2).
      this.#refusal = null;
      this.#sniff = null;
      return this.refuse(match === 24 || match === seen.length ? refusal.h2 : refusal.h1);
    }
    if (match === 24) {
      this.#sniffing = false;
      this.#sniff = null;
      this.#toH2(seen);
    } else if (match < seen.length) {
      this.#sniffing = false;
      this.#sniff = null;
      this.#out.cork();
      this.#feed(seen);
      this.#uncork();
    } else this.#sniff = seen.slice();
  }

  /** From now on the socket carries HTTP/2: tako's codec, its preface written, `first` (bytes read already) fed. */
  #toH2(first: Uint8Array | null): void {
    const h2 = new H2Conn(this, this.server, this.since);
    this.h2 = h2;
    h2.start();
    if (first !== null && this.#state === OPEN) h2.data(first);
  }

  /** The kernel takes writes again. */
  drain(): void {
    if (this.#tunnel !== null) return this.#tunnel.drained();
    if (this.#out.drain()) this.#flushed();
  }

  /**
   * The peer sent FIN. As node:http (without `allowHalfOpen`): the client is gone, a request in
   * flight is given up (`req.signal` aborts, a streamed source is cancelled), requests it
   * pipelined and not yet answered are dropped, and the connection closes.
   */
  ended(): void {
    this.#peerEnded = true;
    if (this.#held) return;
    if (this.#proxy !== null) return this.#gateFailed("proxy", new Error("connection closed before a complete PROXY header"));
    if (this.#hello !== null) return this.#gateFailed("tls", new Error("connection closed before the TLS handshake"));
    if (this.h2 !== null) {
      // HTTP/2: the peer is gone; what was written goes out, then the close (streams at work are given up then).
      if (this.#state === CLOSED) return;
      this.#state = ENDING;
      this.#afterFlush = "end";
      return this.#flushed();
    }
    if (this.#state === LINGER) return this.#close();
    if (this.#state === UPGRADED) return this.#tunnel!.ended();
    if (this.#state !== OPEN) return;
    const req = this.current;
    if (req !== null) {
      this.current = null;
      req.gone();
    }
    this.#stash = null;
    this.#close();
  }

  /** The socket closed (either side, or reset). */
  closed(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#stash = null;
    this.#out.clear();
    const req = this.current;
    this.current = null;
    req?.gone();
    this.h2?.closed();
    this.#tunnel?.gone();
    this.server.release(this);
  }

  // ---- parser sink

  onHead(head: Http1RequestHead): void {
    this.requests++;
    this.since = -1;
    this.#complete = false;
    const pipe = head.framing === "none" ? null : new BodyPipe(this);
    const req = new H1Request(head, this, pipe);
    this.current = req;
    if (head.upgrade) this.closeAfter = true; // what follows is not HTTP/1.1: nothing is served after it
    const problem = headProblem(head);
    if (problem !== null) {
      this.closeAfter = true;
      return sendReply(this, req, errorReply(problem));
    }
    const router = this.server.router;
    const result = requestStart.hasSubscribers ? traceDispatch(router, req) : router.dispatch(req);
    if (head.upgrade) {
      if (result instanceof Promise) {
        result.then(
          (value) => this.#answerUpgrade(req, value),
          (error: unknown) => send(this, req, router.recover(error, req)),
        );
      } else this.#answerUpgrade(req, result);
    } else if (result instanceof Promise) {
      result.then(
        (value) => send(this, req, value),
        (error: unknown) => send(this, req, router.recover(error, req)),
      );
    } else send(this, req, result);
  }

  /**
   * The answer to a request that asked to upgrade: a WebSocket route's acceptance hands the
   * connection to `ws` (once the parser has stopped after the head and what was written before
   * is out); anything else is an ordinary response, after which the connection closes. During
   * the drain an acceptance is answered 503; a handshake with a body is refused (400).
   */
  #answerUpgrade(req: H1Request, value: HandlerResult): void {
    const accept = upgradeOf(value);
    if (accept === null || req.finished || this.current !== req) return send(this, req, value);
    const server = this.server;
    if (server.closing || server.ws.hub.draining) return send(this, req, errorReply(new HttpError(503, "server is shutting down")));
    if (req.pipe !== null) return send(this, req, errorReply(new HttpError(400, "a WebSocket handshake has no body")));
    // Within the head's callback the parser has not stopped yet: the hand-off follows it.
    queueMicrotask(() => void this.#handOff(req, accept));
  }

  async #handOff(req: H1Request, accept: NonNullable<ReturnType<typeof upgradeOf>>): Promise<void> {
    if (this.#out.buffered > 0) await this.writable();
    if (this.#state !== OPEN || this.current !== req || !this.parser.upgraded) return;
    // The drain began while earlier responses were still going out.
    if (this.server.closing) return send(this, req, errorReply(new HttpError(503, "server is shutting down")));
    this.#state = UPGRADED;
    this.current = null;
    req.status = 101;
    req.headSent = true;
    req.completed();
    // What came after the head is the first frames; from now on the socket's bytes are ws's.
    const head = this.#stash ?? new Uint8Array(0);
    this.#stash = null;
    this.#pausedStash = this.#pausedBody = false;
    const tunnel = new WireSocketDuplex(this.socket);
    this.#tunnel = tunnel;
    if (this.#readPaused) {
      this.#readPaused = false;
      this.socket.resume();
    }
    this.server.ws.upgrade(accept, handshakeHead(req), tunnel, Buffer.from(head));
  }

  onBody(bytes: Uint8Array): void {
    if (this.#state === LINGER) {
      this.#lingerLeft -= bytes.length;
      if (this.#lingerLeft < 0) this.destroy();
      return;
    }
    this.current?.pipe?.push(bytes);
  }

  onComplete(): void {
    if (this.#state === LINGER) {
      // The rest of the unread body arrived: the connection can close.
      this.parser.pause();
      return this.#close();
    }
    const req = this.current;
    if (req === null) return;
    this.#complete = true;
    req.pipe?.end();
    if (!req.head.keepAlive) this.closeAfter = true;
    if (req.finished) this.#afterResponse();
    else {
      this.parser.pause(); // one request in flight: the rest waits
      this.socket.deferRead?.();
    }
  }

  // ---- responses

  /**
   * Whether the response to `req` ends the connection (marked so when it does): keep-alive off,
   * a drain, a request that asked for it, or a request body still arriving when the response
   * starts (it is not waited for: a client trickling it would hold the connection).
   */
  closesWith(req: H1Request, asked: boolean): boolean {
    const close = asked || this.closeAfter || this.server.closing || !this.server.keepAlive || !req.head.keepAlive || (req.pipe !== null && !req.pipe.done);
    if (close) this.closeAfter = true;
    return close;
  }

  /** `req`'s response is complete (its last byte handed to the socket). */
  responseDone(req: H1Request): void {
    req.completed();
    if (this.current !== req || this.#state !== OPEN) return;
    if (req.pipe !== null && !req.pipe.done) {
      // Answered before its body arrived: the response closed the connection; drop the rest.
      req.pipe.abandon();
      this.current = null;
      return this.#startLinger();
    }
    // A bodiless request answered within its own head's callback: onComplete continues.
    if (!this.#complete) return;
    this.#afterResponse();
  }

  /** The response in flight is out and its request complete: the next request, or the close. */
  #afterResponse(): void {
    this.current = null;
    this.#complete = false;
    if (this.closeAfter || this.server.closing) {
      this.parser.pause();
      return this.#close();
    }
    this.since = Date.now();
    if (this.#inExecute) return; // the parser goes on with the bytes it has
    this.#resume();
  }

  /** Parses the bytes that waited (a request answered, or the server started serving). */
  #resume(): void {
    const stash = this.#stash;
    if (stash === null) {
      if (this.#peerEnded && this.#state === OPEN) this.#close();
      return;
    }
    this.#stash = null;
    this.#pausedStash = false;
    this.#syncReading();
    this.#out.cork();
    this.#feed(stash);
    this.#uncork();
    if (this.#peerEnded && this.current === null && this.#stash === null && this.#state === OPEN) this.#close();
  }

  /** Accepted before the server serves: bytes wait unread. */
  hold(): void {
    this.#held = true;
    // Nothing is read until then: the first bytes may be a TLS ClientHello, which only the TLS
    // socket made at serve may read.
    this.raw.pause();
  }

  /**
   * The server serves now: the bytes that waited are parsed. On an h2c-only port the connection
   * is HTTP/2 from its first byte; on a port with both, its first bytes decide.
   */
  start(): void {
    if (this.#held) {
      this.#held = false;
      this.raw.resume();
    }
    // After a PROXY header, when it has been read (#feed).
    const http2 = this.#proxy === null ? this.server.http2 : "off";
    if (http2 === "only") return this.#toH2(null);
    if (http2 === "sniff") this.#sniffing = true;
    if (this.#stash !== null || this.#peerEnded) this.#resume();
  }

  // ---- the opening: PROXY header, TLS handshake

  /**
   * The connection opens with a PROXY header (read before any HTTP or TLS byte), due by `by`;
   * with `tls`, TLS follows it (its handshake due `tls.timeout` ms after the header).
   */
  expectProxy(reader: ProxyHeaderReader, by: number, tls: { readonly tls: WireTls; readonly timeout: number | null } | null = null): void {
    this.#proxy = reader;
    this.gateBy = by;
    this.#tlsNext = tls;
  }

  /** Bytes of the PROXY header: what follows it, once it is complete; `null` before (or when it is bad: the connection closes). */
  #readProxy(chunk: Uint8Array): Uint8Array | null {
    let read;
    try {
      read = this.#proxy!.push(chunk);
    } catch (error) {
      this.#gateFailed("proxy", error instanceof ProxyProtocolError ? error : new Error(String(error)));
      return null;
    }
    if (read === null) return null;
    this.#proxy = null;
    this.proxyHeader = read.header;
    this.gateBy = 0;
    this.since = Date.now();
    const next = this.#tlsNext;
    if (next === null) return read.rest;
    // TLS from the byte after the header; what came with it is the ClientHello's start.
    this.#tlsNext = null;
    try {
      this.upgrade(next.tls, next.timeout === null ? Infinity : this.since + next.timeout, read.rest.length > 0 ? read.rest.slice() : undefined);
    } catch (error) {
      this.#gateFailed("tls", error instanceof Error ? error : new Error(String(error)));
    }
    return null;
  }

  /**
   * TLS over the raw socket (`tls`: the runtime's part), `initial` (bytes already read) first;
   * the handshake is due by `by`. Throws what the runtime throws for a bad setting.
   */
  upgrade(tls: WireTls, by: number, initial?: Uint8Array): void {
    this.#tls = tls;
    this.gateBy = by;
    if (tls.choose === undefined) return tls.upgrade(this, initial);
    this.#hello = EMPTY;
    if (initial !== undefined) this.#helloBytes(initial);
  }

  /**
   * Bytes before a handshake whose certificate the ClientHello's server name chooses: kept until
   * the hello is complete (within the handshake deadline); then `choose` runs (bytes that come
   * meanwhile are kept too) and the handshake starts with all of them. Not a hello: closed.
   */
  #helloBytes(chunk: Uint8Array): void {
    const hello = (this.#hello = this.#hello!.length === 0 ? chunk.slice() : joinBytes([this.#hello!, chunk]));
    if (hello.length > HELLO_BYTES_MAX) {
      return this.#gateFailed("tls", new Error(`more than ${HELLO_BYTES_MAX} bytes before the TLS handshake`));
    }
    if (this.#choosing) return;
    const read = readClientHello(hello);
    if (read.kind === "more") return;
    if (read.kind === "bad") return this.#gateFailed("tls", new Error(`not a TLS ClientHello: ${read.reason}`));
    this.#choosing = true;
    const tls = this.#tls!;
    const name = read.serverName;
    let choice: ReturnType<NonNullable<WireTls["choose"]>>;
    try {
      choice = tls.choose!(name);
    } catch (error) {
      return this.#noCertificate(name, error);
    }
    if (choice instanceof Promise) {
      this.#syncReading();
      choice.then(
        (settings) => this.#startHandshake(settings),
        (error: unknown) => this.#noCertificate(name, error),
      );
    } else this.#startHandshake(choice);
  }

  /** The certificate is chosen: the handshake starts with every byte read so far. */
  #startHandshake(choice: TlsChoice): void {
    const bytes = this.#hello;
    this.#hello = null;
    this.#choosing = false;
    if (this.#state !== OPEN || bytes === null || this.gateBy === 0) return;
    this.#syncReading();
    try {
      this.#tls!.upgrade(this, bytes, choice);
    } catch (error) {
      this.#gateFailed("tls", error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** No certificate for the server name: a fatal TLS alert (RFC 8446 §6.2), then closed. */
  #noCertificate(name: string | null, error: unknown): void {
    this.#hello = null;
    this.#choosing = false;
    if (this.#state !== OPEN) return;
    this.socket.write(name === null ? ALERT_HANDSHAKE_FAILURE : ALERT_UNRECOGNIZED_NAME);
    const why = error instanceof Error ? error.message : String(error);
    this.#gateFailed("tls", new Error(`no certificate for ${name === null ? "a client without SNI" : `server name ${JSON.stringify(name)}`}: ${why}`, { cause: error }));
  }

  /** The TLS handshake ended: HTTP/1.1 from now on, or the connection is refused. */
  handshake(ok: boolean, error: Error | null): void {
    if (this.#state !== OPEN || this.#tls === null || this.gateBy === 0) return;
    if (!ok) return this.#gateFailed("tls", error ?? new Error("TLS handshake failed"));
    const protocol = this.#tls.settle(this.socket);
    if (protocol instanceof Error) return this.#gateFailed("tls", protocol);
    this.gateBy = 0;
    this.since = Date.now();
    if (protocol === "h2") this.#toH2(null);
  }

  /** The opening took longer than its deadline (the sweep): the connection is closed. */
  gateExpired(): void {
    if (this.#proxy !== null) this.#gateFailed("proxy", new Error(`no complete PROXY header within ${this.server.proxyReadTimeout} ms`));
    else this.#gateFailed("tls", new Error(`no TLS handshake within ${this.server.tlsHandshakeTimeout} ms`));
  }

  /** The opening failed: reported on `tako:connection:refused` with `reason`, and the connection closed at once. */
  #gateFailed(reason: "proxy" | "tls", error: Error): void {
    this.#proxy = null;
    this.#hello = null;
    this.#choosing = false;
    this.gateBy = 0;
    if (connectionRefused.hasSubscribers) {
      const raw = this.raw;
      publishConnection(connectionRefused, this, { remoteAddress: raw.remoteAddress ?? "", remotePort: raw.remotePort ?? 0 }, reason, error);
    }
    // FIN, as node:net's destroy() (terminate() resets): a TLS alert already written goes out
    // first, and the descriptor is released at once (measured, Bun 1.4.5).
    if (this.#state === CLOSED) return;
    this.#state = ENDING;
    this.socket.end();
  }

  /** Not closed yet. */
  get alive(): boolean {
    return this.#state !== CLOSED;
  }

  /** Parses `chunk`; bytes past a paused request are kept (a copy: the runtime reuses its buffer). */
  #feed(chunk: Uint8Array): void {
    if (this.#proxy !== null) {
      const rest = this.#readProxy(chunk);
      if (rest === null) return;
      // The header is read: h2c starts now, with the bytes that followed it.
      const http2 = this.server.http2;
      if (http2 === "only") return this.#toH2(rest.length > 0 ? rest : null);
      if (http2 === "sniff") {
        this.#sniffing = true;
        if (rest.length > 0) this.#sniffBytes(rest);
        return;
      }
      if (rest.length === 0) return;
      chunk = rest;
    }
    let consumed: number;
    this.#inExecute = true;
    try {
      consumed = this.parser.execute(chunk);
    } catch (error) {
      this.#inExecute = false;
      return this.#refuse(error);
    }
    this.#inExecute = false;
    if (consumed < chunk.length && this.#state === OPEN) {
      this.#stash = chunk.slice(consumed);
      this.#pausedStash = true;
      this.#syncReading();
    }
  }

  /**
   * The request stream is malformed (a codec refusal): its status, `Connection: close`, nothing
   * after it. A request whose body held the error is given up; if its response had started, the
   * connection is cut instead (no status can follow a partial response).
   */
  #refuse(error: unknown): void {
    const status = error instanceof Http1ParseError ? error.status : 400;
    const req = this.current;
    if (req !== null) {
      this.current = null;
      const started = req.headSent;
      req.gone();
      if (started) return this.destroy();
    }
    if (this.#state !== OPEN) return;
    this.write(serializeResponseHead(status, this.server.dateHeader, { length: 0 }, true));
    this.endBy = Date.now() + 1000;
    this.#close();
  }

  /** Writes `bytes` (or queues them while the kernel is full, or during a read). */
  write(bytes: Uint8Array): void {
    if (this.#state !== CLOSED) this.#out.write(bytes);
  }

  /** Bytes written but not taken by the kernel yet. */
  get buffered(): number {
    return this.#out.buffered;
  }

  /** Resolves when every byte written so far is taken by the kernel, or the connection is gone. */
  writable(): Promise<void> {
    return this.#state === CLOSED ? Promise.resolve() : this.#out.writable();
  }

  #uncork(): void {
    if (this.#out.uncork()) this.#flushed();
  }

  /** Everything written is out: waiters go on, then FIN (or the lingering half-close) if one was asked for. */
  #flushed(): void {
    if (!this.#out.empty) return;
    this.#out.wake();
    this.h2?.flushed();
    const after = this.#afterFlush;
    if (after === null || this.#state === CLOSED) return;
    this.#afterFlush = null;
    if (after === "end") {
      // A peer that never closes its side is cut once the bound passes (node:http destroys the
      // socket as soon as its last bytes are flushed).
      if (this.endBy === 0) this.endBy = Date.now() + LINGER_MAX_MS;
      this.socket.end();
    } else this.socket.shutdown();
  }

  /** `Expect: 100-continue` is answered when a handler starts reading the body, before its response. */
  bodyWanted(): void {
    const req = this.current;
    if (req === null || req.headSent || req.head.versionMinor === 0 || !expectsContinue(req.head)) return;
    this.write(CONTINUE);
  }

  pauseReading(): void {
    this.#pausedBody = true;
    this.#syncReading();
  }

  resumeReading(): void {
    this.#pausedBody = false;
    this.#syncReading();
  }

  #readPaused = false;

  #syncReading(): void {
    const pause = this.#state === OPEN && (this.#pausedBody || this.#pausedStash || this.#choosing);
    if (pause === this.#readPaused || this.#state === CLOSED) return;
    this.#readPaused = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }

  // ---- closing

  /** Closes gracefully: the bytes written go out, then FIN. */
  #close(): void {
    if (this.#state === CLOSED || this.#state === ENDING) return;
    this.#state = ENDING;
    if (this.#readPaused) {
      // Read on (and drop) until the peer closes: a paused socket would never see it.
      this.#readPaused = false;
      this.socket.resume();
    }
    this.#afterFlush = "end";
    this.#flushed();
  }

  /** The connection closes once it is idle (the drain, shedding at a deadline): now when no request is in flight. */
  closeIdle(): void {
    if (this.#state !== OPEN) return;
    if (this.h2 !== null) return this.h2.goaway("drain");
    if (this.current === null) this.#close();
    else this.closeAfter = true;
  }

  /** The first head did not arrive in time: 408 and close; a peer that does not read is cut a second later. */
  timeOut(): void {
    if (this.#state !== OPEN) return;
    this.write(serializeResponseHead(408, this.server.dateHeader, { length: 0 }, true));
    this.endBy = Date.now() + 1000;
    this.#close();
  }

  /** Lingering close: FIN after the last response, the rest of the body read and dropped, bounded. */
  #startLinger(): void {
    this.#state = LINGER;
    this.#lingerLeft = LINGER_MAX_BYTES;
    this.lingerUntil = Date.now() + LINGER_MAX_MS;
    this.#stash = null;
    this.#pausedBody = this.#pausedStash = false;
    if (this.#readPaused) {
      this.#readPaused = false;
      this.socket.resume();
    }
    this.#afterFlush = "linger";
    this.#flushed();
    if (this.#peerEnded) this.#close();
  }

  #linger(chunk: Uint8Array): void {
    try {
      this.parser.execute(chunk);
    } catch {
      this.destroy();
    }
  }

  /**
   * A response that cannot be completed (its stream failed after the head went out): given up,
   * and the connection ends after the bytes already written, so the client sees a truncated
   * body (no last chunk, or fewer bytes than the Content-Length), never a complete-looking one.
   */
  cut(req: H1Request): void {
    if (this.current === req) {
      this.current = null;
      req.gone();
    }
    this.#stash = null;
    this.#close();
  }

  /** Closes at once. */
  destroy(): void {
    if (this.#state === CLOSED) return;
    this.socket.terminate();
  }

  /** Refused at the cap: `bytes` (the 503, or SETTINGS and GOAWAY), then close. */
  refuse(bytes: Uint8Array): void {
    this.write(bytes);
    this.#close();
  }

  /** Refused at the cap on a port serving HTTP/1.1 and h2c: the first bytes pick `h1` or `h2`. */
  refuseSniffing(h1: Uint8Array, h2: Uint8Array): void {
    this.#refusal = { h1, h2 };
    if (this.#held) {
      this.#held = false;
      this.raw.resume();
    }
    if (this.#peerEnded) this.refuse(h1);
  }

  // ---- H2Socket

  /** The peer's address (diagnostics). */
  peer(): Peer {
    return { remoteAddress: this.raw.remoteAddress ?? "", remotePort: this.raw.remotePort ?? 0 };
  }

  /**
   * The HTTP/2 codec is done (its GOAWAY is among the bytes written): FIN once they are out, the
   * read side left open and input dropped until the peer closes or {@link H2_LINGER_MS} pass.
   * Bun resets a TCP connection closed with unread input, and the peer would lose the GOAWAY.
   */
  finish(): void {
    if (this.#state !== OPEN) return;
    this.#state = ENDING;
    this.endBy = Date.now() + H2_LINGER_MS;
    if (this.#readPaused) {
      this.#readPaused = false;
      this.socket.resume();
    }
    this.#afterFlush = this.#peerEnded ? "end" : "linger";
    this.#flushed();
  }

  /** Serving requests (not closing or lingering). */
  get open(): boolean {
    return this.#state === OPEN;
  }

  /** Nothing in flight and no body being read: may be shed at the cap. */
  get idle(): boolean {
    if (this.h2 !== null) return this.h2.idle;
    // An open WebSocket is a live session whatever its traffic (its own check is idleTimeout's ping).
    return this.current === null && this.#state !== UPGRADED;
  }

  /** Lingering: past its time bound. */
  get lingering(): boolean {
    return this.#state === LINGER;
  }
}
