import { Duplex } from "node:stream";
import type { WireSocket } from "./socket.ts";

/**
 * A raw socket ({@link WireSocket}: `Bun.listen`'s, the TLS socket over one, or a `Deno.Conn`'s) as a node:stream `Duplex`, for code that
 * takes a node socket (the `ws` package after an upgrade; on Bun `import "ws"` is Bun's built-in
 * `ws`, which frames over such a stream when the request is not its node:http's). The
 * connection keeps the socket's handlers and reports its events here: {@link received},
 * {@link drained}, {@link ended}, {@link gone}.
 *
 * - Writes: what the kernel takes now is written; the rest waits for `drain` and the write's
 *   callback runs only then, so the stream's buffer holds every byte not yet taken (the npm
 *   `ws` counts it in `bufferedAmount`).
 * - Reads: each chunk is copied (the runtime reuses its buffer) and pushed; when the stream's
 *   buffer is full the socket stops reading until the consumer asks for more.
 * - `end()` sends FIN once the writes are out; `destroy()` closes at once.
 */
export class WireSocketDuplex extends Duplex {
  readonly #socket: WireSocket;
  /** The part of a write the kernel has not taken, and the write's callback. */
  #rest: Uint8Array | null = null;
  #restDone: ((error?: Error | null) => void) | null = null;
  #readPaused = false;
  #closed = false;

  constructor(socket: WireSocket) {
    // As a server-side net.Socket: the peer's FIN ends the writable side too.
    super({ allowHalfOpen: false });
    this.#socket = socket;
  }

  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.#socket.remotePort;
  }

  get remoteFamily(): string | undefined {
    return this.#socket.remoteFamily;
  }

  get localAddress(): string | undefined {
    return this.#socket.localAddress;
  }

  get localPort(): number | undefined {
    return this.#socket.localPort;
  }

  /** As net.Socket's; the socket has no inactivity timeout of its own (`ws` turns it off: `setTimeout(0)`). */
  setTimeout(_ms: number, _callback?: () => void): this {
    return this;
  }

  setNoDelay(noDelay = true): this {
    this.#socket.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this;
  }

  // ---- events of the socket, from the connection

  /** Bytes read from the socket. */
  received(chunk: Uint8Array): void {
    if (this.#closed) return;
    if (!this.push(Buffer.from(chunk)) && !this.#readPaused) {
      this.#readPaused = true;
      this.#socket.pause();
    }
  }

  /** The kernel takes writes again. */
  drained(): void {
    const rest = this.#rest;
    if (rest === null) return;
    const n = this.#socket.write(rest);
    if (n >= 0 && n < rest.length) {
      this.#rest = rest.subarray(n);
      return;
    }
    const done = this.#restDone!;
    this.#rest = null;
    this.#restDone = null;
    done(n < 0 ? new Error("the socket closed before the write") : null);
  }

  /** The peer sent FIN. */
  ended(): void {
    if (!this.#closed) this.push(null);
  }

  /** The socket closed (either side, or reset). */
  gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    const done = this.#restDone;
    this.#rest = null;
    this.#restDone = null;
    done?.(new Error("the socket closed before the write"));
    this.destroy();
  }

  // ---- Duplex

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#send(chunk, callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  #send(bytes: Uint8Array, callback: (error?: Error | null) => void): void {
    if (this.#closed) return callback(new Error("the socket is closed"));
    const n = this.#socket.write(bytes);
    if (n < 0) return callback(new Error("the socket is closed"));
    if (n === bytes.length) return callback();
    this.#rest = bytes.subarray(n);
    this.#restDone = callback;
  }

  override _read(): void {
    if (!this.#readPaused || this.#closed) return;
    this.#readPaused = false;
    this.#socket.resume();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#closed) this.#socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#socket.terminate();
    }
    callback(error);
  }
}
