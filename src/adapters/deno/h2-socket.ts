import { joinBytes } from "../../core/body.ts";
import type { ConnInfo } from "../../core/conn-info.ts";
import type { Peer } from "../shared/diagnostics.ts";
import type { H2Conn, H2Socket } from "../wire/h2-conn.ts";
import type { DenoConn } from "./deno-api.ts";

/** Bytes asked of one `read`: what a busy client's frames fill (one op per 64 KiB at most). */
const READ_SIZE = 64 * 1024;

/** How long a connection whose codec is done keeps reading (and dropping) what the peer still sends. */
const LINGER_MS = 2000;

const OPEN = 0;
/** The codec is done: the output goes out, then FIN, then input is dropped until the peer closes. */
const FINISHING = 1;
const CLOSED = 2;

/**
 * An HTTP/2 connection's socket on Deno: a `Deno.Conn` (h2c) or a `Deno.TlsConn` whose handshake
 * chose `h2`, driven for tako's codec ({@link H2Conn}). One read loop feeds the codec; its
 * buffer is reused for the next read because nothing keeps a view of it past `data()` (the codec
 * copies a frame split across reads, and `BodyPipe` copies the body bytes it queues). Writes go
 * out in order, one `conn.write` at a time (which may take part of its bytes); what is written
 * meanwhile queues and goes out as one write. {@link buffered} counts the queued bytes, so the
 * codec stops sending DATA while one write is pending and more waits behind it.
 */
export class DenoH2Socket implements H2Socket {
  readonly conn: DenoConn;
  /** The connection on this socket, set once before {@link run}. */
  h2: H2Conn | null = null;
  readonly #info: ConnInfo;
  readonly #peer: Peer;
  readonly #onClose: () => void;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #state = OPEN;
  #peerEnded = false;
  #linger: ReturnType<typeof setTimeout> | null = null;

  /** `info`: the connection's facts; `onClose`: called once, when the socket is closed. */
  constructor(conn: DenoConn, info: ConnInfo, peer: Peer, onClose: () => void) {
    this.conn = conn;
    this.#info = info;
    this.#peer = peer;
    this.#onClose = onClose;
  }

  /** Reads until the peer ends or the socket closes, feeding the codec while it is open. */
  async run(): Promise<void> {
    const buf = new Uint8Array(READ_SIZE);
    const conn = this.conn;
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        if (this.#state === OPEN) this.h2!.data(buf.subarray(0, n));
        else if (this.#state === CLOSED) return;
      }
    } catch {
      return this.destroy(); // reset, or closed under the read
    }
    this.#peerEnded = true;
    if (this.#state === OPEN) {
      // The peer is gone: what was written goes out, then the close (streams at work are given up then).
      this.#state = FINISHING;
      if (!this.#writing) this.#end();
    } else if (this.#state === FINISHING && !this.#writing) this.destroy();
  }

  write(bytes: Uint8Array): void {
    if (this.#state === CLOSED) return;
    this.#queue.push(bytes);
    if (this.#writing) this.#queued += bytes.length;
    else void this.#pump();
  }

  /** Bytes waiting behind the write in progress. */
  get buffered(): number {
    return this.#queued;
  }

  /** Writes the queue in order, one write at a time; then `flushed`, or the end once the codec is done. */
  async #pump(): Promise<void> {
    this.#writing = true;
    const conn = this.conn;
    try {
      while (this.#queue.length > 0) {
        const queue = this.#queue;
        this.#queue = [];
        this.#queued = 0;
        let bytes = queue.length === 1 ? queue[0]! : joinBytes(queue);
        while (bytes.length > 0) {
          const n = await conn.write(bytes);
          if (this.#state === CLOSED) return;
          bytes = bytes.subarray(n);
        }
      }
    } catch {
      return this.destroy();
    } finally {
      this.#writing = false;
    }
    if (this.#state === OPEN) this.h2!.flushed();
    else if (this.#state === FINISHING) this.#end();
  }

  connInfo(): ConnInfo {
    return this.#info;
  }

  peer(): Peer {
    return this.#peer;
  }

  /**
   * The codec is done (its GOAWAY is among the bytes written): FIN once they are out, then input
   * read and dropped until the peer closes or {@link LINGER_MS} pass, so the peer reads the GOAWAY
   * rather than a reset.
   */
  finish(): void {
    if (this.#state !== OPEN) return;
    this.#state = FINISHING;
    if (!this.#writing) this.#end();
  }

  /** Everything is written: FIN, and the close when the peer ends too or the linger bound passes. */
  #end(): void {
    if (this.#state === CLOSED) return;
    if (this.#peerEnded) return this.destroy();
    this.conn.closeWrite().catch(() => this.destroy());
    this.#linger ??= setTimeout(() => this.destroy(), LINGER_MS); // rare: one timer per closing connection
  }

  /** Closes at once: the streams still at work are given up. */
  destroy(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    if (this.#linger !== null) clearTimeout(this.#linger);
    this.#queue = [];
    this.#queued = 0;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    this.h2?.closed();
    this.#onClose();
  }

  /** Open: neither finishing nor closed. */
  get open(): boolean {
    return this.#state === OPEN;
  }
}
