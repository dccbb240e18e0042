/** Response header values; an array sends the header once per value (e.g. `Set-Cookie`). */
export type HeaderMap = Record<string, string | readonly string[]>;

/** A body a {@link Reply} can carry. Streams and async iterables are sent as they produce. */
export type ReplyBody = string | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string> | null;

/** Options of the response helpers. */
export interface ReplyInit {
  /** HTTP status; 200 when omitted. */
  status?: number;
  /** Extra headers; they override the helper's `content-type`. */
  headers?: HeaderMap;
}

/** Anything a handler can return that knows how to become a response (the Responder contract). */
export interface Responder {
  intoResponse(): Response | Reply;
}

/**
 * A lightweight response: status, headers and body, written straight to the native response
 * on Node (no Fetch `Response` is built unless a fetch-style host needs one).
 */
export class Reply implements Responder {
  readonly status: number;
  readonly headers: HeaderMap;
  readonly body: ReplyBody;

  constructor(body: ReplyBody, status = 200, headers: HeaderMap = {}) {
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`response status must be an integer in 200..599, got ${String(status)}`);
    }
    this.body = body;
    this.status = status;
    this.headers = headers;
  }

  /** The same response as a Fetch `Response`. */
  intoResponse(): Response {
    return new Response(toBodyInit(this.body) as BodyInit | null, { status: this.status, headers: toHeadersInit(this.headers) });
  }
}

/** Fetch `Headers` init from a {@link HeaderMap}, repeating array values. */
export function toHeadersInit(map: HeaderMap): Record<string, string> | [string, string][] {
  let plain = true;
  for (const name in map) if (typeof map[name] !== "string") plain = false;
  if (plain) return map as Record<string, string>;
  const out: [string, string][] = [];
  for (const name in map) {
    const value = map[name]!;
    if (typeof value === "string") out.push([name, value]);
    else for (const v of value) out.push([name, v]);
  }
  return out;
}

const encoder = new TextEncoder();

/** Fetch `BodyInit` from a {@link ReplyBody}; async iterables become a byte stream. */
export function toBodyInit(body: ReplyBody): string | Uint8Array | ReadableStream<Uint8Array> | null {
  if (body === null || typeof body === "string" || body instanceof Uint8Array || body instanceof ReadableStream) {
    return body;
  }
  return iterableStream(body);
}

/**
 * A byte stream over an async iterable of bytes or strings (strings are UTF-8 encoded), or over
 * another stream. With `failed`, an error of the source is handed to it and the stream errors
 * with what it returns instead (so the engine can report the error once and choose the reason
 * the runtime sees); without, the source's error goes through as is. `ended` is called when the
 * source is exhausted, before the stream closes.
 */
export function iterableStream(source: AsyncIterable<Uint8Array | string>, failed?: (error: unknown) => unknown, ended?: () => void): ReadableStream<Uint8Array> {
  let it: AsyncIterator<Uint8Array | string> | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // A stream is read through a reader, not its async iterator: the iterator queues
      // `return()` behind a pending read, while a reader's `cancel()` ends that read at once, so
      // a client that leaves cancels the source now rather than at its next chunk.
      it ??= source instanceof ReadableStream ? readerIterator(source.getReader()) : source[Symbol.asyncIterator]();
      let next: IteratorResult<Uint8Array | string>;
      try {
        next = await it.next();
      } catch (error) {
        if (failed === undefined) throw error;
        controller.error(failed(error));
        return;
      }
      if (next.done === true) {
        ended?.();
        return controller.close();
      }
      controller.enqueue(typeof next.value === "string" ? encoder.encode(next.value) : next.value);
    },
    async cancel() {
      await it?.return?.();
    },
  });
}

/** A stream reader as an iterator whose `return()` cancels the stream at once. */
function readerIterator(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncIterator<Uint8Array> {
  return {
    next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
    return: async () => {
      await reader.cancel();
      return { done: true, value: undefined };
    },
  };
}

function withType(headers: HeaderMap | undefined, type: string): HeaderMap {
  return headers === undefined ? { "content-type": type } : { "content-type": type, ...headers };
}

/** A JSON response: `json({ ok: true }, { status: 201 })`. */
export function json(value: unknown, init: ReplyInit = {}): Reply {
  const body = JSON.stringify(value);
  if (body === undefined) throw new TypeError("json(): value is not JSON-serialisable");
  return new Reply(body, init.status, withType(init.headers, "application/json"));
}

/** A `text/plain; charset=utf-8` response. */
export function text(body: string, init: ReplyInit = {}): Reply {
  return new Reply(body, init.status, withType(init.headers, "text/plain; charset=utf-8"));
}

/** A `text/html; charset=utf-8` response. */
export function html(body: string, init: ReplyInit = {}): Reply {
  return new Reply(body, init.status, withType(init.headers, "text/html; charset=utf-8"));
}

/** A redirect to `location` (302 Found by default; 301, 303, 307, 308 also allowed). */
export function redirect(location: string, status: 301 | 302 | 303 | 307 | 308 = 302): Reply {
  return new Reply(null, status, { location });
}
