import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { isConnectionSpecific } from "../../core/h2.ts";
import { errorReply, isPlainJson, JSON_TYPE, settle, settleError, TEXT_TYPE, toReply, type HandlerResult } from "../../core/responder.ts";
import type { Reply, ReplyBody } from "../../core/response.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import type { H2Request } from "./h2-request.ts";
import { Source } from "./send.ts";

const { NGHTTP2_NO_ERROR } = constants;
const END = { endStream: true } as const;

/** Per-server state the HTTP/2 write path reads. */
export interface H2SendContext {
  readonly router: Dispatcher;
  /** `h2MaxSendBufSize`: bytes buffered per stream before the body source is paused. */
  readonly maxSendBuf: number;
}

/**
 * Writes a handler result to an HTTP/2 stream: one `respond` with the status and headers
 * (connection-specific ones dropped), then the body. A stream the client already reset is
 * left alone (a late write on it must never throw).
 */
export function sendH2(stream: ServerHttp2Stream, value: HandlerResult, req: H2Request, ctx: H2SendContext, async: boolean): void {
  if (stream.destroyed || stream.closed) return;
  if (async) req.completed();
  try {
    write(stream, value, req, ctx);
  } catch (error) {
    // e.g. a header value with a newline: node:http2 refuses it. Report it; answer 500 when
    // nothing went out yet.
    ctx.router.recover(error, req);
    if (stream.destroyed) return;
    if (stream.headersSent) abort(stream, error);
    else writeReply(stream, errorReply(error), req, ctx);
  }
}

function write(stream: ServerHttp2Stream, value: HandlerResult, req: H2Request, ctx: H2SendContext): void {
  if (typeof value === "string") return whole(stream, 200, { "content-type": TEXT_TYPE }, value, req);
  if (typeof value === "object" && value !== null && isPlainJson(value)) {
    let body: string;
    try {
      body = JSON.stringify(value);
    } catch (error) {
      return writeReply(stream, settleError(ctx.router, error, req, toReply, undefined), req, ctx);
    }
    return whole(stream, 200, { "content-type": JSON_TYPE }, body, req);
  }
  writeReply(stream, settle(ctx.router, value, req, toReply, undefined), req, ctx);
}

/**
 * A whole body: one HEADERS (with content-length) and one DATA frame, or HEADERS alone for HEAD.
 *
 * When the request's body has been read to its end (a POST whose body the handler read), the
 * DATA frame is written first and the stream ended once node:http2 has taken it (an empty DATA
 * frame with END_STREAM). With `end(body)` the stream closes, and node:http2 destroys it at once
 * (its readable side is over), before the write's callback runs; Node's Writable then builds an
 * `ERR_STREAM_DESTROYED` error with its stack for nobody on every such response (`errorBuffer`,
 * Node 20): measured 3.5 µs of the 23 µs of an h2c `POST /echo`, and the garbage after it.
 */
function whole(stream: ServerHttp2Stream, status: number, headers: OutgoingHttpHeaders, body: string | Uint8Array | null, req: H2Request): void {
  headers[":status"] = status;
  const size = body === null ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  const bodyless = status === 204 || status === 304;
  if (!bodyless) headers["content-length"] = size;
  if (size === 0 || bodyless || req.method === "HEAD") {
    stream.respond(headers, END);
  } else {
    stream.respond(headers);
    if (stream.readableEnded) {
      stream.write(body, (error) => {
        if (error == null && !stream.destroyed) stream.end();
      });
    } else stream.end(body);
  }
  req.answered();
  if (req.bodyLeft) stopUpload(stream);
}

/** After a complete response, RST_STREAM(NO_ERROR) tells the client to stop sending an unread body (RFC 9113 §8.1). */
function stopUpload(stream: ServerHttp2Stream): void {
  const close = (): void => {
    if (!stream.destroyed && !stream.closed) stream.close(NGHTTP2_NO_ERROR);
  };
  if (stream.writableFinished) close();
  else stream.once("finish", close);
}

const INVALID_VALUE = /[\r\n\0]/;

/**
 * node:http2 sends CR, LF and NUL in header values as they are (RFC 9113 §8.2.1 forbids them); a
 * proxy that turns the response into HTTP/1.1 could be split by them. Refused like node:http does.
 */
function checkValue(name: string, value: OutgoingHttpHeaders[string]): void {
  if (typeof value === "string" ? INVALID_VALUE.test(value) : Array.isArray(value) && value.some((v) => INVALID_VALUE.test(v))) {
    throw new TypeError(`invalid character in the value of response header "${name}"`);
  }
}

/**
 * Fills `headers` with a reply's fields as HTTP/2 and HTTP/3 carry them: lower-case names,
 * connection-specific ones dropped (RFC 9113 §8.2.2, RFC 9114 §4.2), values checked; returns
 * the body. Throws a `TypeError` for a value no proxy could carry safely.
 */
export function replyHeaders(reply: Reply | Response, headers: OutgoingHttpHeaders): ReplyBody {
  let body: ReplyBody;
  if (reply instanceof Response) {
    reply.headers.forEach((value, name) => {
      if (name !== "set-cookie" && !isConnectionSpecific(name)) headers[name] = value;
    });
    const cookies = reply.headers.getSetCookie();
    if (cookies.length > 0) headers["set-cookie"] = cookies;
    body = reply.body as ReplyBody;
  } else {
    const map = reply.headers;
    for (const name in map) {
      const key = name.toLowerCase();
      if (!isConnectionSpecific(key)) headers[key] = map[name] as string | string[];
    }
    body = reply.body;
  }
  for (const name in headers) checkValue(name, headers[name]);
  return body;
}

function writeReply(stream: ServerHttp2Stream, reply: Reply | Response, req: H2Request, ctx: H2SendContext): void {
  const headers: OutgoingHttpHeaders = {};
  const body = replyHeaders(reply, headers);
  if (body === null || typeof body === "string" || body instanceof Uint8Array) return whole(stream, reply.status, headers, body, req);
  headers[":status"] = reply.status;
  if (req.method === "HEAD" || reply.status === 204 || reply.status === 304) {
    stream.respond(headers, END);
    req.answered();
    if (body instanceof ReadableStream) body.cancel().catch(() => {});
    if (req.bodyLeft) stopUpload(stream);
    return;
  }
  stream.respond(headers);
  void pump(stream, body, req, ctx);
}

/**
 * Streams chunks, pausing the source while more than `h2MaxSendBufSize` bytes wait to be sent
 * (a peer that does not read keeps the server's memory flat); stops when the client resets.
 */
async function pump(stream: ServerHttp2Stream, body: AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array>, req: H2Request, ctx: H2SendContext): Promise<void> {
  // A reset stream cancels the source at once, not at its next chunk (see `Source`).
  const source = new Source(body);
  let ended = false;
  stream.once("close", () => {
    if (!ended) source.cancel();
  });
  try {
    for (;;) {
      const next = await source.next();
      if (next.done === true || stream.destroyed || stream.closed) break;
      const chunk = next.value;
      const size = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength;
      if (stream.writableLength + size > ctx.maxSendBuf) await flushed(stream, chunk);
      else stream.write(chunk);
    }
    if (stream.destroyed || stream.closed) {
      source.cancel();
      return;
    }
    ended = true;
    req.answered();
    stream.end();
    if (req.bodyLeft) stopUpload(stream);
  } catch (error) {
    // Headers are out: report, then reset the stream so the client sees an incomplete body.
    ctx.router.recover(error, req);
    abort(stream, error);
  }
}

/**
 * Resets a stream whose response cannot be completed: RST_STREAM(INTERNAL_ERROR) and never
 * END_STREAM, so the client cannot take a truncated body for a complete one.
 *
 * `stream.close(NGHTTP2_INTERNAL_ERROR)` does not do that on Node 20 or Bun 1.4: it ends the
 * writable side first (node:http2's `closeStream` calls `stream.end()`, whose `_final` shuts the
 * stream down, i.e. a DATA frame with END_STREAM) and only then submits the RST_STREAM, which
 * nghttp2 sends after the pending DATA. `destroy(error)` goes through the same `closeStream` with
 * `INTERNAL_ERROR` (for any error but node's own `AbortError`, hence a plain `Error` here), but
 * the stream is already marked destroyed, and a destroyed Writable never calls `_final`: nothing
 * ends the stream before the reset. Body bytes not yet handed to nghttp2 are dropped with it.
 * Bun's node:http2 behaves the same (measured). The 'error' the stream then emits is ignored by
 * the transport; the caller has reported the cause.
 */
function abort(stream: ServerHttp2Stream, cause: unknown): void {
  if (!stream.destroyed) stream.destroy(new Error("response body failed", { cause }));
}

/** Writes `chunk` and resolves once everything up to it has left the stream's buffer (or the stream closed). */
function flushed(stream: ServerHttp2Stream, chunk: Uint8Array | string): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off("close", done);
      resolve();
    };
    stream.once("close", done);
    stream.write(chunk, done);
  });
}
