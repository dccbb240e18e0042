import { joinBytes } from "../../core/body.ts";

/** The part of a `WireSocket` an {@link Outbox} writes to: bytes taken by the kernel, or -1 when closed. */
export interface Writer {
  write(bytes: Uint8Array): number;
}

/**
 * What a raw-socket connection writes, in order: straight to the socket while the kernel
 * takes it, queued while it is full (the socket takes part and reports `drain` later), and
 * gathered into one write while {@link cork}ed (every response of one read goes out together).
 * The connection owns what happens once everything is out (`drain` and `uncork` say so).
 */
export class Outbox {
  readonly #holder: { readonly socket: Writer };
  /** Bytes written during a cork, sent together at its end. */
  #cork: Uint8Array[] | null = null;
  /** Bytes the kernel did not take yet. */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #waiters: (() => void)[] = [];

  /** `holder.socket` is read at each write: a TLS upgrade replaces the socket. */
  constructor(holder: { readonly socket: Writer }) {
    this.#holder = holder;
  }

  /** Bytes written but not taken by the kernel yet. */
  get buffered(): number {
    return this.#pendingBytes;
  }

  /** Nothing is corked or queued: everything written is the kernel's. */
  get empty(): boolean {
    return this.#pendingBytes === 0 && this.#cork === null;
  }

  /** Writes `bytes` (or queues them while the kernel is full, or during a cork). */
  write(bytes: Uint8Array): void {
    const cork = this.#cork;
    if (cork !== null) {
      cork.push(bytes);
      return;
    }
    if (this.#pendingBytes > 0) {
      this.#pending.push(bytes);
      this.#pendingBytes += bytes.length;
      return;
    }
    const n = this.#holder.socket.write(bytes);
    if (n < bytes.length && n >= 0) {
      this.#pending.push(n === 0 ? bytes : bytes.subarray(n));
      this.#pendingBytes += bytes.length - n;
    }
  }

  /** From now until {@link uncork}, writes are gathered. */
  cork(): void {
    this.#cork = [];
  }

  /** Sends what was gathered as one write; true when everything is out then. */
  uncork(): boolean {
    const parts = this.#cork;
    this.#cork = null;
    if (parts !== null) {
      if (parts.length === 1) this.write(parts[0]!);
      else if (parts.length > 1) this.write(joinBytes(parts));
    }
    return this.#pendingBytes === 0;
  }

  /** The kernel takes writes again: the queue goes out as far as it takes it; true when it is empty. */
  drain(): boolean {
    const pending = this.#pending;
    const socket = this.#holder.socket;
    while (pending.length > 0) {
      const bytes = pending[0]!;
      const n = socket.write(bytes);
      if (n < 0) return false;
      this.#pendingBytes -= Math.min(n, bytes.length);
      if (n < bytes.length) {
        pending[0] = bytes.subarray(n);
        return false;
      }
      pending.shift();
    }
    return true;
  }

  /** Resolves when every byte written so far is taken by the kernel (or the outbox is {@link clear}ed). */
  writable(): Promise<void> {
    if (this.#pendingBytes === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Everything is out: whoever waited in {@link writable} goes on. */
  wake(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** The socket closed: the queue is dropped, and the waiters go on. */
  clear(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#cork = null;
    this.wake();
  }
}
