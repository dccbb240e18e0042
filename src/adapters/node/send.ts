import type { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import type { Dispatcher } from "../../core/router/types.ts";
import { errorReply, isPlainJson, JSON_TYPE, settle, settleError, toReply, TEXT_TYPE, type HandlerResult } from "../../core/responder.ts";
import type { Reply, ReplyBody } from "../../core/response.ts";
import type { NodeRequest } from "./request.ts";

/**
 * True when a request head announces a body (a Content-Length other than 0, or a
 * Transfer-Encoding). Asked only of a request not complete when its answer starts, which for a
 * synchronous handler is every request (node:http marks even a bodiless one complete only after
 * the handler returns): a pass over the raw header lines, never `req.headers` (built lazily).
 */
function bodyExpected(raw: string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!.length;
    if (n === 14) {
      if (raw[i]!.toLowerCase() === "content-length" && raw[i + 1] !== "0") return true;
    } else if (n === 17 && raw[i]!.toLowerCase() === "transfer-encoding") return true;
  }
  return false;
}

/** Per-server state the write path reads. */
export interface SendContext {
  readonly router: Dispatcher;
  /** Set when keep-alive is off or a drain started: responses carry `Connection: close`. */
  closeAfterResponse: boolean;
}

/**
 * Hot path: writes a handler result to the native response in the cheapest way. A string goes
 * out with one `writeHead` (raw header array, no object to copy) and `end`; other whole bodies
 * are ended in one call, so Node adds Content-Length; streams are piped with backpressure.
 */
export function send(res: ServerResponse, value: HandlerResult, req: NodeRequest, ctx: SendContext): void {
  const router = ctx.router;
  // A body still arriving when the answer starts (a handler that did not read it, or a 413 or
  // 408 about it) is not waited for on a kept-alive connection: a client trickling it would
  // hold the connection past every deadline. The connection ends after the response, lingering
  // (bounded) so the client reads the status.
  if (ctx.closeAfterResponse || (!req.native.complete && bodyExpected(req.native.rawHeaders))) res.shouldKeepAlive = false;
  try {
    write(res, value, req, router);
  } catch (error) {
    // e.g. a header value with a newline: Node refuses it. Report it (the hook's answer could
    // fail the same way, so it is not used) and answer 500 if nothing went out yet.
    router.recover(error, req);
    if (res.headersSent) res.destroy();
    else {
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      writeReply(res, errorReply(error), req, router);
    }
  }
}

function write(res: ServerResponse, value: HandlerResult, req: NodeRequest, router: Dispatcher): void {
  if (typeof value === "string") {
    res.writeHead(200, ["content-type", TEXT_TYPE, "content-length", String(Buffer.byteLength(value))]);
    res.end(value);
    return;
  }
  if (typeof value === "object" && value !== null && isPlainJson(value)) {
    let body: string;
    try {
      body = JSON.stringify(value);
    } catch (error) {
      return writeReply(res, settleError(router, error, req, toReply, undefined), req, router);
    }
    res.writeHead(200, ["content-type", JSON_TYPE, "content-length", String(Buffer.byteLength(body))]);
    res.end(body);
    return;
  }
  writeReply(res, settle(router, value, req, toReply, undefined), req, router);
}

function writeReply(res: ServerResponse, reply: Reply | Response, req: NodeRequest, router: Dispatcher): void {
  if (reply instanceof Response) return sendResponse(res, reply, req, router);
  res.statusCode = reply.status;
  const headers = reply.headers;
  for (const name in headers) res.setHeader(name, headers[name]!);
  sendBody(res, reply.body, req, router);
}

function sendResponse(res: ServerResponse, response: Response, req: NodeRequest, router: Dispatcher): void {
  res.statusCode = response.status;
  if (response.statusText !== "") res.statusMessage = response.statusText;
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  sendBody(res, response.body as ReplyBody, req, router);
}

function sendBody(res: ServerResponse, body: ReplyBody, req: NodeRequest, router: Dispatcher): void {
  if (body === null || typeof body === "string" || body instanceof Uint8Array) {
    res.end(body ?? undefined);
    return;
  }
  if (req.native.method === "HEAD") {
    res.end();
    if (body instanceof ReadableStream) body.cancel().catch(() => {});
    return;
  }
  void pump(res, body, req, router);
}

/**
 * Streams chunks with backpressure. When the client goes away (the response closes unfinished)
 * the source is cancelled at once, not at its next chunk: a stream's reader is cancelled (its
 * pending read ends), an iterator's `return()` is called (an async generator runs its `finally`
 * when its current `await` settles: the language queues `return()` behind it).
 */
async function pump(res: ServerResponse, body: AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array>, req: NodeRequest, router: Dispatcher): Promise<void> {
  const source = new Source(body);
  const gone = (): void => {
    if (!res.writableFinished) source.cancel();
  };
  res.once("close", gone);
  try {
    for (;;) {
      const next = await source.next();
      if (next.done === true || res.destroyed) break;
      if (!res.write(next.value)) await drained(res);
      if (res.destroyed) break;
    }
    if (res.destroyed) source.cancel();
    else res.end();
  } catch (error) {
    // Headers are out: the status can no longer change. Report, then cut the connection so
    // the client sees a truncated body rather than a complete-looking one.
    router.recover(error, req);
    res.destroy();
  }
}

/** Resolves on the writable's next 'drain', or when it closes first. */
export function drained(res: Pick<EventEmitter, "on" | "off">): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * A streamed body's chunks, read without `for await` so that it can be cancelled while a read
 * is pending (`for await` only returns after the pending `next()` settles, and a stream's
 * iterator queues `return()` the same way).
 */
export class Source {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | null;
  readonly #it: AsyncIterator<Uint8Array | string> | null;
  #cancelled = false;

  constructor(body: AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array>) {
    if (body instanceof ReadableStream) {
      this.#reader = body.getReader();
      this.#it = null;
    } else {
      this.#reader = null;
      this.#it = body[Symbol.asyncIterator]();
    }
  }

  next(): Promise<IteratorResult<Uint8Array | string>> {
    if (this.#cancelled) return Promise.resolve({ done: true, value: undefined });
    return this.#reader !== null ? (this.#reader.read() as Promise<IteratorResult<Uint8Array>>) : this.#it!.next();
  }

  /** Ends the source now (once): the stream's cancel algorithm runs, the iterator's `return()` is called. */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    const done = this.#reader !== null ? this.#reader.cancel() : this.#it!.return?.();
    Promise.resolve(done).catch(() => {});
  }
}
