import type { Socket } from "node:net";
import type { WireEvents, WireSocket } from "../wire/socket.ts";

/**
 * A connection from Deno's node:net (a listener adopted from an inherited descriptor, which
 * `Deno.listen` cannot take) as the {@link WireSocket} tako's raw-socket server runs on, with the
 * semantics of {@link DenoWireSocket}: events go to {@link data} (`data`, `drain` after a short
 * write, `ended` at the peer's FIN, `closed`); a write is refused with 0 (`drain` owed) while the
 * socket's buffer is over its high-water mark; `end` and `shutdown` send FIN once the writes are
 * out and keep reading until the peer's FIN (the server is made with `allowHalfOpen`).
 */
export class NodeNetWireSocket implements WireSocket {
  readonly socket: Socket;
  /** Where the events go (the connection, or TLS run over this socket); set before {@link start}. */
  data: WireEvents = null as unknown as WireEvents;
  readonly #unix: boolean;
  #owed = false;
  #closed = false;

  /** `socket`: accepted paused (`pauseOnConnect`); `unix`: from a Unix listener (no addresses). */
  constructor(socket: Socket, unix: boolean) {
    this.socket = socket;
    this.#unix = unix;
    socket.on("data", (chunk: Uint8Array) => this.data.data(chunk));
    socket.on("end", () => this.data.ended());
    socket.on("drain", () => {
      if (!this.#owed) return;
      this.#owed = false;
      this.data.drain();
    });
    socket.on("error", () => {}); // a reset: 'close' follows
    socket.on("close", () => {
      this.#closed = true;
      this.data.closed();
    });
  }

  /** Events go to {@link data} from now on: reading starts. */
  start(): void {
    this.socket.resume();
  }

  write(bytes: Uint8Array): number {
    const s = this.socket;
    if (this.#closed || s.destroyed || s.writableEnded) return -1;
    if (s.writableNeedDrain) {
      this.#owed = true;
      return 0;
    }
    s.write(bytes);
    return bytes.length;
  }

  end(): void {
    this.shutdown();
  }

  shutdown(): void {
    if (!this.#closed && !this.socket.writableEnded) this.socket.end();
  }

  terminate(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  setNoDelay(noDelay: boolean): boolean {
    if (this.#unix) return false;
    this.socket.setNoDelay(noDelay);
    return true;
  }

  get remoteAddress(): string | undefined {
    return this.#unix ? undefined : this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.#unix ? undefined : this.socket.remotePort;
  }

  get remoteFamily(): string | undefined {
    return this.#unix ? undefined : this.socket.remoteFamily;
  }

  get localAddress(): string | undefined {
    return this.#unix ? undefined : this.socket.localAddress;
  }

  get localPort(): number | undefined {
    return this.#unix ? undefined : this.socket.localPort;
  }
}
