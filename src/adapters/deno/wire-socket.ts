import { joinBytes } from "../../core/body.ts";
import type { H1Conn } from "../wire/h1-conn.ts";
import type { WireEvents, WireSocket } from "../wire/socket.ts";
import { connOps, type DenoConn, type DenoCoreOps } from "./deno-api.ts";

/** The first read buffer of a connection: a request head, or a few HTTP/2 frames. */
const READ_SMALL = 16 * 1024;
/** After a read that filled it: a body or a busy HTTP/2 connection streams in, one op per 64 KiB. */
const READ_LARGE = 64 * 1024;
/** Bytes accepted behind the write in progress (gathered into the next write) before the caller is told to wait for `drain`. */
const QUEUE_MAX = 64 * 1024;
/** How long a socket that sent FIN keeps reading (and dropping) for the peer's FIN before it is closed. */
const FIN_WAIT_MS = 2000;

const ignore = (): void => {};
const EMPTY = new Uint8Array(0);

/**
 * A `Deno.Conn` (or a `Deno.TlsConn`) as the {@link WireSocket} an {@link H1Conn} runs on, with
 * Bun's socket's semantics, so the connection's code is the same on both runtimes:
 *
 * - Reads: one `conn.read` at a time (into a buffer reused for the next read: the
 *   connection copies whatever it keeps past `data()`, as on Bun, whose buffer is reused too);
 *   {@link pause} stops it after the read under way, {@link resume} starts it again;
 *   {@link deferRead} holds the next read until the response to a complete request is written.
 * - Writes: one `conn.write` at a time, which may take part of its bytes (the rest is written
 *   next). What is written meanwhile is taken into a queue sent as one write (HTTP/2 frames of
 *   several streams, pipelined responses) up to {@link QUEUE_MAX}; past it `write` returns 0
 *   and the caller's `drain` is called once the queue has gone out, as Bun does when the kernel is full.
 * - {@link end} and {@link shutdown}: FIN once everything is written (`closeWrite`); reading
 *   goes on (input dropped by the connection) until the peer's FIN, then the socket closes;
 *   cut after {@link FIN_WAIT_MS}. {@link terminate}: `close()` at once.
 * - TLS: nothing is read before {@link ready} (the handshake, `Deno.TlsConn.handshake()`, run by
 *   `DenoWireTls`, decides the protocol first).
 */
export class DenoWireSocket implements WireSocket {
  readonly conn: DenoConn;
  /** TLS: the protocol ALPN chose (`null`: none), once the handshake is done. */
  alpn: string | null = null;
  /** Where the events go (the connection, or TLS run over this socket); set before {@link start}. */
  data: WireEvents = null as unknown as WireEvents;
  #buf: Uint8Array | null = null;
  #reading = false;
  #paused = false;
  /** {@link deferRead}: the next read waits for the next write, or for the event loop's next turn. */
  #deferred = false;
  /** A `Deno.TlsConn`: the only kind {@link deferRead} helps. */
  readonly #tls: boolean;
  #ready: boolean;
  #started = false;
  #writing = false;
  /** The bytes of the write in progress. */
  #out: Uint8Array = EMPTY;
  #queue: Uint8Array[] = [];
  #queued = 0;
  /** `write` returned short: `drain` is owed once the queue is out. */
  #owed = false;
  /** Our FIN: not asked, asked (sent once the writes are out), sent. */
  #fin: 0 | 1 | 2 = 0;
  #peerEnded = false;
  #closed = false;
  #finTimer: ReturnType<typeof setTimeout> | null = null;

  /** Deno's read and write ops and the connection's resource (`connOps`), or `null`: `conn.read`/`conn.write`. */
  readonly #core: DenoCoreOps | null;
  readonly #rid: number;

  /** `ready`: false for a TLS connection before its handshake. `direct`: false keeps to `conn.read`/`conn.write` (the fallback, tested). */
  constructor(conn: DenoConn, ready = true, direct = true) {
    this.conn = conn;
    this.#ready = ready;
    this.#tls = !ready;
    const ops = direct ? connOps(conn) : null;
    this.#core = ops?.core ?? null;
    this.#rid = ops?.rid ?? -1;
  }

  /** The connection's resource id (`connOps`); -1 when this Deno does not expose it. */
  get rid(): number {
    return this.#rid;
  }

  /** A read is under way. */
  get reading(): boolean {
    return this.#reading;
  }

  /** Reads and writes go through Deno's ops directly (see `connOps`). */
  get direct(): boolean {
    return this.#core !== null;
  }

  /** Events go to {@link data} from now on: reading starts (once {@link ready}). */
  start(): void {
    this.#started = true;
    this.#kick();
  }

  /** TLS: the handshake is done; reading may start. */
  ready(): void {
    this.#ready = true;
    this.#kick();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #kick(): void {
    if (!this.#reading && !this.#paused && !this.#deferred && this.#ready && this.#started && !this.#closed && !this.#peerEnded) this.#readNext();
  }

  /**
   * Hot path: one read at a time, its result handled by callbacks bound once (no async function
   * and no extra promise per read); the next read starts after the chunk went to the connection.
   */
  #readNext(): void {
    this.#reading = true;
    const buf = (this.#buf ??= new Uint8Array(READ_SMALL));
    const core = this.#core;
    (core !== null ? core.read(this.#rid, buf) : this.conn.read(buf)).then(this.#onRead, this.#onReadError);
  }

  /** `n`: bytes read; `null` (`conn.read`) or 0 (the op) at the end of the stream. */
  readonly #onRead = (n: number | null): void => {
    this.#reading = false;
    if (this.#closed) return;
    if (n === null || n === 0) return this.#eof();
    const buf = this.#buf!;
    this.data.data(n === buf.length ? buf : buf.subarray(0, n));
    // A read that filled the buffer: a body or a busy HTTP/2 connection streams in.
    if (n === buf.length && buf.length < READ_LARGE) this.#buf = new Uint8Array(READ_LARGE);
    this.#kick();
  };

  readonly #onReadError = (): void => {
    this.#reading = false;
    this.#lost(); // reset, or closed under the read
  };

  #eof(): void {
    if (this.#closed) return;
    this.#peerEnded = true;
    this.data.ended();
    if (this.#fin === 2) this.#close();
  }

  write(bytes: Uint8Array): number {
    if (this.#closed || this.#fin !== 0) return -1;
    if (!this.#writing) {
      this.#send(bytes);
      return bytes.length;
    }
    if (this.#queued >= QUEUE_MAX) {
      this.#owed = true;
      return 0;
    }
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    return bytes.length;
  }

  /** Hot path: writes `bytes` (then what was queued meanwhile, as one write) through callbacks bound once. */
  #send(bytes: Uint8Array): void {
    this.#writing = true;
    this.#out = bytes;
    const core = this.#core;
    (core !== null ? core.write(this.#rid, bytes) : this.conn.write(bytes)).then(this.#onWritten, this.#onWriteError);
    if (this.#deferred) {
      // The read waited for this write: it goes out first.
      this.#deferred = false;
      this.#kick();
    }
  }

  /**
   * The connection's request is complete and its response is coming: the next read starts when
   * the response is written (its write op issued first), or at the event loop's next turn when
   * the handler takes longer (so a client that leaves is still seen at once). A read issued
   * before the response finds nothing and waits for the next request: measured on HTTPS/1.1
   * `POST /echo` (Deno 2.9.6, wrk, 64 connections), 2.0 `recvfrom` per request before, 1.4
   * after, and ~1% less server CPU per request (8 interleaved pairs). On plain TCP it changed
   * nothing (1.0 `recvfrom` per request either way), so it applies to TLS only.
   */
  deferRead(): void {
    if (!this.#tls || this.#deferred || this.#closed) return;
    this.#deferred = true;
    const list = DenoWireSocket.#waiting;
    list.push(this);
    if (list.length === 1) setTimeout(DenoWireSocket.#flushDeferred, 0);
  }

  /** Sockets whose read waits ({@link deferRead}); one timer for all of them per turn. */
  static #waiting: DenoWireSocket[] = [];

  static readonly #flushDeferred = (): void => {
    const list = DenoWireSocket.#waiting;
    DenoWireSocket.#waiting = [];
    for (const socket of list) {
      if (!socket.#deferred) continue;
      socket.#deferred = false;
      socket.#kick();
    }
  };

  readonly #onWritten = (n: number): void => {
    if (this.#closed) return;
    const rest = this.#out;
    if (n < rest.length) return this.#send(rest.subarray(n));
    const queue = this.#queue;
    if (queue.length > 0) {
      this.#queue = [];
      this.#queued = 0;
      return this.#send(queue.length === 1 ? queue[0]! : joinBytes(queue));
    }
    this.#writing = false;
    this.#out = EMPTY;
    if (this.#fin === 1) return this.#sendFin();
    if (this.#owed) {
      this.#owed = false;
      this.data.drain();
    }
  };

  readonly #onWriteError = (): void => {
    this.#writing = false;
    this.#lost();
  };

  end(): void {
    this.shutdown();
  }

  shutdown(): void {
    if (this.#closed || this.#fin !== 0) return;
    this.#fin = 1;
    if (!this.#writing) this.#sendFin();
  }

  #sendFin(): void {
    this.#fin = 2;
    // A TLS connection whose handshake failed has nothing more to say.
    if (this.#peerEnded || !this.#ready) return this.#close();
    this.conn.closeWrite().catch(ignore);
    // Read on (the connection drops what comes) so the peer's FIN is seen: a close with unread
    // input would reset the connection, and the peer could lose the last response.
    this.#paused = false;
    this.#kick();
    this.#finTimer = setTimeout(() => this.#close(), FIN_WAIT_MS); // one timer per closing connection
  }

  terminate(): void {
    this.#close();
  }

  #lost(): void {
    if (!this.#closed) this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#finTimer !== null) clearTimeout(this.#finTimer);
    this.#queue = [];
    this.#queued = 0;
    // A TLS connection whose handshake has not ended keeps its socket open after `close()` alone
    // (measured, Deno 2.9.6: no FIN within 5 s); `closeWrite()` first ends it.
    if (!this.#ready) this.conn.closeWrite().catch(ignore);
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    this.data.closed();
  }

  pause(): void {
    this.#paused = true;
  }

  /**
   * Reading starts again from the next microtask: a `pause` (or a hand-over of the connection,
   * such as TLS taking its descriptor) in the same turn keeps the resource unread.
   */
  resume(): void {
    this.#paused = false;
    queueMicrotask(this.#kickSoon);
  }

  readonly #kickSoon = (): void => this.#kick();

  setNoDelay(noDelay: boolean): boolean {
    if (this.conn.remoteAddr.transport !== "tcp") return false;
    this.conn.setNoDelay?.(noDelay);
    return true;
  }

  get remoteAddress(): string | undefined {
    const a = this.conn.remoteAddr;
    return a.transport === "tcp" ? a.hostname : undefined;
  }

  get remotePort(): number | undefined {
    const a = this.conn.remoteAddr;
    return a.transport === "tcp" ? a.port : undefined;
  }

  get remoteFamily(): string | undefined {
    const a = this.conn.remoteAddr;
    return a.transport === "tcp" ? (a.hostname.includes(":") ? "IPv6" : "IPv4") : undefined;
  }

  get localAddress(): string | undefined {
    const a = this.conn.localAddr;
    return a.transport === "tcp" ? a.hostname : undefined;
  }

  get localPort(): number | undefined {
    const a = this.conn.localAddr;
    return a.transport === "tcp" ? a.port : undefined;
  }
}
