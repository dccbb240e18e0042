import { Reply, type HeaderMap } from "./response.ts";

/** One Server-Sent Event. */
export interface SseEvent {
  /** The payload: a string is sent as is (split into one `data:` line per line); anything else as JSON. */
  readonly data: unknown;
  /** The event type (`event:`); no CR or LF. */
  readonly event?: string;
  /** The event id (`id:`), which the client sends back as `Last-Event-ID` when it reconnects; no CR, LF or NUL. */
  readonly id?: string;
  /** The client's reconnection delay in milliseconds (`retry:`). */
  readonly retry?: number;
}

/** Options of {@link sse}. */
export interface SseOptions {
  /**
   * A comment line (`: keep-alive`) is sent after this many milliseconds without an event, and
   * only then, so proxies and runtimes do not close an idle stream as dead, and a client that
   * left is noticed. Default 15,000. `null`: none.
   */
  readonly keepAlive?: number | null;
  /** `retry:` sent once at the start (the client's reconnection delay, ms). Default: none. */
  readonly retry?: number;
  /** Extra response headers. */
  readonly headers?: HeaderMap;
}

const LINE_BREAK = /\r\n|\r|\n/;
const HEARTBEAT = ": keep-alive\n\n";

function checkField(name: "event" | "id", value: string, nul: boolean): void {
  if (typeof value !== "string") throw new TypeError(`sse(): "${name}" must be a string`);
  // A line break in event or id would start another field or event: an injection.
  if (/[\r\n]/.test(value) || (nul && value.includes("\0"))) {
    throw new TypeError(`sse(): "${name}" must not contain ${nul ? "CR, LF or NUL" : "CR or LF"} (it would inject fields into the stream)`);
  }
}

function checkRetry(retry: unknown): number {
  if (!Number.isInteger(retry) || (retry as number) < 0) throw new TypeError("sse(): retry must be a non-negative integer number of milliseconds");
  return retry as number;
}

/** The wire form of one event (or of a bare string: its data). Throws a `TypeError` on an injection attempt. */
export function formatEvent(input: SseEvent | string): string {
  const event: SseEvent = typeof input === "string" ? { data: input } : input;
  let out = "";
  if (event.event !== undefined) {
    checkField("event", event.event, false);
    out += `event: ${event.event}\n`;
  }
  if (event.id !== undefined) {
    checkField("id", event.id, true);
    out += `id: ${event.id}\n`;
  }
  if (event.retry !== undefined) out += `retry: ${checkRetry(event.retry)}\n`;
  const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data ?? null);
  for (const line of data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** Waits for the source's next event, or `keepAlive` ms, whichever is first. */
function nextOrIdle<T>(pending: Promise<T>, ms: number | null): Promise<T | typeof HEARTBEAT> {
  if (ms === null) return pending;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = new Promise<typeof HEARTBEAT>((resolve) => (timer = setTimeout(() => resolve(HEARTBEAT), ms)));
  return Promise.race([pending, idle]).finally(() => clearTimeout(timer));
}

const DONE: IteratorResult<string> = Object.freeze({ done: true, value: undefined });

/**
 * The wire frames of an SSE response. An iterator object rather than an async generator: when
 * the client leaves, the engine calls `return()` while a `next()` is still waiting for the
 * source, and a generator would queue that `return()` behind the wait (the source's next event
 * or heartbeat); here it ends the source at once.
 */
class Frames implements AsyncIterableIterator<string> {
  readonly #source: AsyncIterable<SseEvent | string>;
  readonly #keepAlive: number | null;
  readonly #retry: number | undefined;
  #it: AsyncIterator<SseEvent | string> | null = null;
  /** The source's `next()` not consumed yet (a heartbeat went out while it was waiting). */
  #pending: Promise<IteratorResult<SseEvent | string>> | null = null;
  #started = false;
  #done = false;

  constructor(source: AsyncIterable<SseEvent | string>, keepAlive: number | null, retry: number | undefined) {
    this.#source = source;
    this.#keepAlive = keepAlive;
    this.#retry = retry;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<string>> {
    if (this.#done) return DONE;
    if (!this.#started) {
      // A first chunk at once: the response head goes out now, not with the first event.
      this.#started = true;
      return { done: false, value: this.#retry === undefined ? ": open\n\n" : `retry: ${this.#retry}\n\n` };
    }
    const it = (this.#it ??= this.#source[Symbol.asyncIterator]());
    try {
      const next = await nextOrIdle((this.#pending ??= it.next()), this.#keepAlive);
      if (this.#done) return DONE; // ended while waiting
      if (next === HEARTBEAT) return { done: false, value: HEARTBEAT };
      this.#pending = null;
      if (next.done === true) {
        this.#done = true;
        return DONE;
      }
      return { done: false, value: formatEvent(next.value) };
    } catch (error) {
      // The source failed, or an event was an injection attempt: end the source, fail the stream.
      this.#end();
      throw error;
    }
  }

  /** The client left (or the stream failed): the source's `return()` is called now. */
  async return(): Promise<IteratorResult<string>> {
    this.#end();
    return DONE;
  }

  #end(): void {
    if (this.#done) return;
    this.#done = true;
    // Not awaited: a source blocked in its own await would hold the cancellation until it wakes.
    if (this.#it !== null) Promise.resolve(this.#it.return?.()).catch(() => {});
  }
}

/**
 * A Server-Sent Events response (`text/event-stream`) from an async iterable of events (or
 * plain strings, sent as data). Framing is strict: multi-line data becomes one `data:` line per
 * line, and a CR or LF in `event` or `id` (an injection) fails the stream instead of being
 * sent. `Cache-Control: no-cache` and `X-Accel-Buffering: no` keep proxies from buffering; a
 * comment heartbeat is sent only while idle. When the client leaves, the source's `return()`
 * is called at once (an async generator source runs its `finally` once its current `await`
 * settles: pass it `req.signal` to stop sooner). Reconnecting clients send `Last-Event-ID`: read it as `req.lastEventId`.
 *
 * ```ts
 * router.get("/ticks", (req) => sse(ticks(req.lastEventId), { keepAlive: 10_000 }));
 * ```
 */
export function sse(source: AsyncIterable<SseEvent | string>, options: SseOptions = {}): Reply {
  const keepAlive = options.keepAlive === undefined ? 15_000 : options.keepAlive;
  if (keepAlive !== null && !(Number.isInteger(keepAlive) && keepAlive > 0)) throw new TypeError("sse(): keepAlive must be a positive integer number of milliseconds, or null");
  const retry = options.retry === undefined ? undefined : checkRetry(options.retry);
  const headers: HeaderMap = { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no", ...options.headers };
  return new Reply(new Frames(source, keepAlive, retry), 200, headers);
}
