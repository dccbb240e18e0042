import { BodyClock, type BodyDeadline, bodyAborted, joinBytes, settledWith, tooLarge } from "../../core/body.ts";
import { slabCopy } from "../../core/bytes.ts";

/** Buffered body bytes past which a connection stops reading until the handler takes some. */
export const BODY_HIGH_WATER = 64 * 1024;

/** What a body asks of its connection. */
export interface BodyOwner {
  /** Stop reading the socket: the handler is behind. */
  pauseReading(): void;
  resumeReading(): void;
  /** A reader started: the client may send the body now (`Expect: 100-continue`). */
  bodyWanted(): void;
  /**
   * `n` body octets left the pipe (taken by the reader, or dropped): on HTTP/2 their flow-control
   * window goes back to the peer only now, so an unread upload holds the client back.
   */
  consumed?(n: number): void;
}

/**
 * A whole-body read in progress: chunks go straight into it, with no promise per chunk, and
 * its end settles the reader's one promise with `finish` of the bytes.
 */
interface Collector {
  readonly limit: number;
  /** The body deadline's clock (`null`: none), waiting from the read's start to its end. */
  clock: BodyClock | null;
  readonly finish: (bytes: Uint8Array) => unknown;
  /** `finish` keeps the bytes (the handler gets them): parts are arrays of their own, not slab pieces. */
  readonly keeps: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly parts: Uint8Array[];
  size: number;
}

/**
 * A request body as the parser delivers it (chunked coding removed), to one reader: a whole-body
 * read (`collect`, the buffering readers) or chunk by chunk (`next`, `req.body`). Bytes are
 * copied out of the read buffer (the runtime reuses it). Past {@link BODY_HIGH_WATER} of bytes
 * nobody took yet the connection stops reading (backpressure); a reader that gives up, or a
 * response that went out first, turns the rest into discarded bytes.
 */
export class BodyPipe implements AsyncIterable<Uint8Array> {
  readonly #owner: BodyOwner;
  #queue: Uint8Array[] = [];
  #buffered = 0;
  #paused = false;
  #ended = false;
  #error: unknown = null;
  #collector: Collector | null = null;
  #waiter: ((result: IteratorResult<Uint8Array>) => void) | null = null;
  #waiterFail: ((error: unknown) => void) | null = null;
  /** Bytes received so far (for the stalled-upload rate at the cap). */
  received = 0;
  /** Nobody will read the rest: bytes are dropped. */
  discarding = false;
  #started = false;

  constructor(owner: BodyOwner) {
    this.#owner = owner;
  }

  /** All of the body arrived (or it failed). */
  get done(): boolean {
    return this.#ended || this.#error !== null;
  }

  /** A reader waits for bytes that have not come (the client's to send). */
  get waiting(): boolean {
    return !this.done && (this.#collector !== null || this.#waiter !== null);
  }

  /** Body bytes from the parser: a view of the read buffer, copied if kept. */
  push(bytes: Uint8Array): void {
    const n = bytes.length;
    this.received += n;
    if (this.discarding || n === 0) return this.#owner.consumed?.(n);
    const c = this.#collector;
    if (c !== null) {
      this.#owner.consumed?.(n);
      c.clock?.got(n);
      c.size += n;
      if (c.size > c.limit) {
        this.discarding = true;
        this.#settle(c, tooLarge(c.limit));
        return;
      }
      c.parts.push(c.keeps ? bytes.slice() : slabCopy(bytes));
      return;
    }
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = this.#waiterFail = null;
      this.#owner.consumed?.(n);
      waiter({ done: false, value: bytes.slice() });
      return;
    }
    this.#queue.push(bytes.slice());
    this.#buffered += n;
    if (!this.#paused && this.#buffered > BODY_HIGH_WATER) {
      this.#paused = true;
      this.#owner.pauseReading();
    }
  }

  /** The body is complete. */
  end(): void {
    if (this.done) return;
    this.#ended = true;
    const c = this.#collector;
    if (c !== null) this.#settle(c, null);
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = this.#waiterFail = null;
      waiter({ done: true, value: undefined });
    }
  }

  /** The body cannot complete (the client left, a malformed chunk): readers get a 400. */
  fail(error: unknown): void {
    if (this.done) return;
    this.#error = bodyAborted(error);
    const c = this.#collector;
    if (c !== null) this.#settle(c, this.#error);
    const fail = this.#waiterFail;
    if (fail !== null) {
      this.#waiter = this.#waiterFail = null;
      fail(this.#error);
    }
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#owner.bodyWanted();
  }

  /**
   * The whole body as `finish` makes it, rejecting with 413 past `limit` (the rest is then
   * discarded) and with the 408 once `deadline` passes while the body is still coming (the read
   * is then given up; the connection closes after the 408). Unless `finish` `keeps` the bytes,
   * they are copied into slab pieces (`core/bytes.ts`), dropped once it returns.
   */
  collect<T>(limit: number, deadline: BodyDeadline | null, finish: (bytes: Uint8Array) => T, keeps = true): Promise<T> {
    this.#start();
    const parts = this.#queue;
    const size = this.#buffered;
    this.#queue = [];
    this.#buffered = 0;
    this.#unpause();
    if (size > 0) this.#owner.consumed?.(size);
    if (size > limit) {
      this.discarding = true;
      return Promise.reject(tooLarge(limit));
    }
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#ended) return settledWith(finish, joinBytes(parts, size));
    return new Promise((resolve, reject) => {
      const c: Collector = { limit, clock: null, finish, keeps, resolve: resolve as (value: unknown) => void, reject, parts, size };
      this.#collector = c;
      if (deadline === null) return;
      c.clock = new BodyClock(deadline, (error) => {
        this.discarding = true;
        this.#settle(c, error);
      });
      c.clock.got(size);
      c.clock.wait();
    });
  }

  /** Ends the whole-body read `c`: with its bytes (`error` null) or `error`. */
  #settle(c: Collector, error: unknown): void {
    if (this.#collector !== c) return;
    this.#collector = null;
    c.clock?.stop();
    if (error !== null) return c.reject(error);
    try {
      c.resolve(c.finish(joinBytes(c.parts, c.size)));
    } catch (thrown) {
      c.reject(thrown);
    }
  }

  /** The next chunk. */
  next(): Promise<IteratorResult<Uint8Array>> {
    this.#start();
    const chunk = this.#queue.shift();
    if (chunk !== undefined) {
      this.#buffered -= chunk.length;
      this.#owner.consumed?.(chunk.length);
      if (this.#buffered <= BODY_HIGH_WATER / 2) this.#unpause();
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    this.#unpause();
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#waiterFail = reject;
    });
  }

  /** The reader gave up: the rest is read and dropped (never a reason to cut the connection). */
  abandon(): void {
    this.discarding = true;
    const dropped = this.#buffered;
    this.#queue = [];
    this.#buffered = 0;
    this.#unpause();
    if (dropped > 0) this.#owner.consumed?.(dropped);
  }

  #unpause(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#owner.resumeReading();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => this.next(),
      return: () => {
        this.abandon();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}
