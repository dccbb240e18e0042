import type { ServerConfig } from "./config.ts";
import { HttpError } from "./errors.ts";

/**
 * A request body's deadline (`ServerConfig.bodyReadTimeout` and `bodyMinRate`): `timeout` ms,
 * plus one second per `minRate` bytes received, counted only while the server waits for body
 * bytes. Engines hand it to their requests ({@link TakoRequest}'s `bodyDeadline`).
 */
export interface BodyDeadline {
  readonly timeout: number;
  readonly minRate: number | null;
}

/** The body deadline of `config`, decided once per server; `null` when `bodyReadTimeout` is off. */
export function bodyDeadline(config: ServerConfig): BodyDeadline | null {
  return config.bodyReadTimeout === null ? null : Object.freeze({ timeout: config.bodyReadTimeout, minRate: config.bodyMinRate });
}

/** The 408 for a body that did not arrive in time; the connection is closed after it. */
export function bodyTimedOut(): HttpError {
  return new HttpError(408, "request body not received in time", { connection: "close" });
}

/**
 * Bytes a body may declare and still be read by a runtime's native whole-body reader, which
 * reports no progress: its length is credited at the start, so the deadline can grow by at most
 * the base timeout (`minRate × timeout`, 10,000 bytes with the defaults). Larger bodies are read
 * chunk by chunk and credited as they arrive.
 */
export function nativeReadCredit(deadline: BodyDeadline | null): number {
  if (deadline === null || deadline.minRate === null) return Number.POSITIVE_INFINITY;
  return (deadline.minRate * deadline.timeout) / 1000;
}

/** How often the clocks of the bodies being waited for are checked: a deadline fires at most this late. */
export const BODY_SWEEP_MS = 100;

/**
 * Clocks waiting for body bytes; one sweep checks them all, no timer per body (on Deno,
 * re-arming a timer per response cost a third of GET throughput, measured). An array with each
 * clock's index in it, removed by swapping with the last: no allocation per wait, where a `Set`
 * going from empty to one entry and back on every request was seen in profiles.
 */
const waiting: BodyClock[] = [];
let sweeper: ReturnType<typeof setInterval> | null = null;
/**
 * The time of the last sweep (`performance.now()`), which waits start and end at while the sweep
 * runs: a clock's reading is off by at most one sweep period, the deadline's own granularity,
 * and a request costs no clock read (on Deno each is a call into the runtime: ~3% of a POST's
 * CPU, measured). Read afresh when a wait starts with no sweep running.
 */
let sweptAt = 0;

function sweep(): void {
  const now = performance.now();
  sweptAt = now;
  // Backwards: an expired clock leaves by swapping the last (already checked) clock into its place.
  for (let i = waiting.length - 1; i >= 0; i--) waiting[i]!.check(now);
  if (waiting.length === 0 && sweeper !== null) {
    clearInterval(sweeper);
    sweeper = null;
  }
}

/**
 * One body's clock against its {@link BodyDeadline}: time counts only while the server waits
 * for body bytes (between {@link wait} and {@link pause}); each byte received ({@link got})
 * extends the deadline by `1 / minRate` seconds. A shared sweep every {@link BODY_SWEEP_MS}
 * checks the clocks that are waiting; `onExpire` is called once, when the waited time passes
 * the allowance.
 */
export class BodyClock {
  readonly #deadline: BodyDeadline;
  #onExpire: ((error: HttpError) => void) | null;
  #received = 0;
  #waited = 0;
  /** When the current wait began; -1: not waiting. */
  #since = -1;
  #expired = false;
  /** Its index in `waiting`; -1: not there. */
  #slot = -1;

  constructor(deadline: BodyDeadline, onExpire: (error: HttpError) => void) {
    this.#deadline = deadline;
    this.#onExpire = onExpire;
  }

  /** True once the deadline passed. */
  get expired(): boolean {
    return this.#expired;
  }

  /** The server now waits for body bytes. */
  wait(): void {
    if (this.#onExpire === null || this.#since >= 0) return;
    if (sweeper === null) {
      sweptAt = performance.now();
      sweeper = setInterval(sweep, BODY_SWEEP_MS);
    }
    this.#since = sweptAt;
    this.#slot = waiting.push(this) - 1;
  }

  #leave(): void {
    const at = this.#slot;
    if (at < 0) return;
    this.#slot = -1;
    const last = waiting.pop()!;
    if (last !== this) {
      waiting[at] = last;
      last.#slot = at;
    }
  }

  /** The server stopped waiting (a chunk arrived and is being processed). */
  pause(): void {
    if (this.#since < 0) return;
    this.#waited += sweptAt - this.#since;
    this.#since = -1;
    this.#leave();
  }

  /** `bytes` more of the body arrived. */
  got(bytes: number): void {
    this.#received += bytes;
  }

  /** The body is done (read, failed or abandoned): no more expiry. */
  stop(): void {
    this.#onExpire = null;
    this.#leave();
  }

  /** The sweep: expires the clock if it has waited past its allowance at `now`. */
  check(now: number): void {
    const expire = this.#onExpire;
    if (expire === null || this.#since < 0) return;
    const { timeout, minRate } = this.#deadline;
    const allowed = minRate === null ? timeout : timeout + (this.#received * 1000) / minRate;
    if (this.#waited + (now - this.#since) < allowed) return;
    this.#expired = true;
    this.stop();
    expire(bodyTimedOut());
  }
}

/**
 * Runs a whole-body read under a new {@link BodyClock}, waiting from now to its end: `read`
 * gets the clock (to report progress) and its result is returned, or the 408 once the deadline
 * passes (the read is then abandoned; the connection is closed after the 408).
 */
export function underClock<T>(deadline: BodyDeadline, read: (clock: BodyClock) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const clock = new BodyClock(deadline, reject);
    clock.wait();
    read(clock).then(
      (value) => {
        clock.stop();
        resolve(value);
      },
      (error: unknown) => {
        clock.stop();
        reject(error);
      },
    );
  });
}

/** `finish(bytes)` as a settled promise, for a whole body already read (a throw from `finish` rejects it). */
export function settledWith<T>(finish: (bytes: Uint8Array) => T, bytes: Uint8Array): Promise<T> {
  try {
    return Promise.resolve(finish(bytes));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Default request body limit: 1 MiB, enough for JSON APIs, small against memory exhaustion. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The 413 error for a body over `limit` bytes. */
export function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body exceeds the limit of ${limit} bytes`);
}

/**
 * The error for a request body that could not be read to its end: the client reset the
 * connection or the stream, or sent a broken body. It is the client's doing, so a 400 (which
 * the router's error hook never sees), not a server error. An `HttpError` (the 413 of a limit)
 * stays as it is.
 */
export function bodyAborted(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const why = error instanceof Error ? error.message : String(error);
  return new HttpError(400, `request body aborted: ${why.slice(0, 200)}`);
}

/**
 * `bodyAborted` for a promise's rejection, except a `TypeError`: reading a body twice, or after
 * the native request was consumed by hand, is a programming error, not the client's.
 */
export function rejectBody(error: unknown): never {
  throw error instanceof TypeError ? error : bodyAborted(error);
}

/**
 * Rejects early when the declared `Content-Length` is over the limit, so an oversized upload
 * is refused before a byte of it is buffered.
 */
export function checkDeclaredLength(contentLength: string | null, limit: number): void {
  if (contentLength !== null && Number(contentLength) > limit) throw tooLarge(limit);
}

/** Buffers a body, failing with 413 as soon as it passes `limit` bytes. */
export async function readAll(source: AsyncIterable<Uint8Array>, limit: number, clock: BodyClock | null = null): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      clock?.got(chunk.byteLength);
      size += chunk.byteLength;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  } catch (error) {
    rejectBody(error);
  }
  return joinBytes(chunks, size);
}

const NO_BYTES = new Uint8Array(0);

/** `parts` as one byte array (`size`: their total length, when known); a single part is returned as is. */
export function joinBytes(parts: readonly Uint8Array[], size = -1): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 0) return NO_BYTES;
  if (size < 0) {
    size = 0;
    for (const part of parts) size += part.byteLength;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * A byte stream over `source` that errors with 413 once more than `limit` bytes went through,
 * and with a 400 (`bodyAborted`) when the source fails (the client went away mid-upload) or
 * ends short of the `declared` Content-Length (a reset some runtimes end the body on as if it
 * were complete: Deno.serve's HTTP/2, measured).
 */
export function limitedStream(source: AsyncIterable<Uint8Array>, limit: number, declared: number | null = null, deadline: BodyDeadline | null = null): ReadableStream<Uint8Array> {
  let it: AsyncIterator<Uint8Array> | null = null;
  let size = 0;
  let clock: BodyClock | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      it ??= source[Symbol.asyncIterator]();
      // Time counts while a reader waits for the next chunk (a pull), not while it processes one.
      if (deadline !== null && clock === null) {
        clock = new BodyClock(deadline, (error) => {
          controller.error(error);
          void it?.return?.();
        });
      }
      clock?.wait();
      let next: IteratorResult<Uint8Array>;
      try {
        next = await it.next();
      } catch (error) {
        clock?.stop();
        if (clock?.expired !== true) controller.error(error instanceof TypeError ? error : bodyAborted(error));
        return;
      }
      if (clock !== null) {
        if (clock.expired) return;
        clock.pause();
        if (next.done === true) clock.stop();
        else clock.got(next.value.byteLength);
      }
      if (next.done === true) {
        if (declared !== null && size < declared) return controller.error(shortBody(size, declared));
        return controller.close();
      }
      size += next.value.byteLength;
      if (size > limit) {
        clock?.stop();
        controller.error(tooLarge(limit));
        await it.return?.();
        return;
      }
      controller.enqueue(next.value);
    },
    async cancel() {
      clock?.stop();
      await it?.return?.();
    },
  });
}

/** The 400 for a body that ended before its declared length. */
export function shortBody(size: number, declared: number): HttpError {
  return bodyAborted(new Error(`the body ended after ${size} of its ${declared} declared bytes`));
}

/** The declared Content-Length as a number, or `null` without one (or with one that is not a plain number). */
export function declaredLength(contentLength: string | null): number | null {
  if (contentLength === null) return null;
  const n = Number(contentLength);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}
