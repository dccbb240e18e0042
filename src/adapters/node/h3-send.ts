import { errorReply, isPlainJson, JSON_TYPE, settle, settleError, TEXT_TYPE, toReply, type HandlerResult } from "../../core/responder.ts";
import type { Reply, ReplyBody } from "../../core/response.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import { replyHeaders } from "./h2-send.ts";
import type { AddonHeaders, AddonStream } from "./h3-addon.ts";
import type { H3Request } from "./h3-request.ts";
import { drained, Source } from "./send.ts";

/** RFC 9114 §8.1: the response cannot be completed (a failed body source). */
export const H3_INTERNAL_ERROR = 0x102;

const END = { endStream: true } as const;

/**
 * Hot path: writes a handler result to an HTTP/3 stream. A whole body goes out with headers
 * and FIN in one call into the addon (`respondWithBody`); streams are written with the Duplex's
 * backpressure. A stream the client already reset is left alone.
 */
export function sendH3(stream: AddonStream, value: HandlerResult, req: H3Request, router: Dispatcher): void {
  if (stream.destroyed) return;
  try {
    write(stream, value, req, router);
  } catch (error) {
    // e.g. a header value with a newline. Report it; answer 500 when nothing went out yet.
    router.recover(error, req);
    if (stream.destroyed) return;
    if (req.status !== 0) abort(stream);
    else writeReply(stream, errorReply(error), req, router);
  }
}

function write(stream: AddonStream, value: HandlerResult, req: H3Request, router: Dispatcher): void {
  if (typeof value === "string") return whole(stream, 200, { ":status": "", "content-type": TEXT_TYPE }, value, req);
  if (typeof value === "object" && value !== null && isPlainJson(value)) {
    let body: string;
    try {
      body = JSON.stringify(value);
    } catch (error) {
      return writeReply(stream, settleError(router, error, req, toReply, undefined), req, router);
    }
    return whole(stream, 200, { ":status": "", "content-type": JSON_TYPE }, body, req);
  }
  writeReply(stream, settle(router, value, req, toReply, undefined), req, router);
}

/**
 * A whole body with its Content-Length. `headers` starts with `:status` (pseudo-headers must
 * precede the others, RFC 9114 §4.3), which is set here.
 */
function whole(stream: AddonStream, status: number, headers: AddonHeaders, body: string | Uint8Array | null, req: H3Request): void {
  headers[":status"] = String(status);
  const size = body === null ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  const bodyless = status === 204 || status === 304;
  if (!bodyless) headers["content-length"] = String(size);
  req.status = status;
  if (size === 0 || bodyless || req.method === "HEAD") stream.respond(headers, END);
  else stream.respondWithBody(headers, typeof body === "string" ? body : asBuffer(body!));
  req.answered();
  discardUpload(stream, req);
}

/** The addon sends Buffers; a Uint8Array is viewed as one (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A request body nobody read is drained and dropped, so the client's flow control keeps moving to the end of the stream. */
function discardUpload(stream: AddonStream, req: H3Request): void {
  if (req.bodyLeft) stream.resume();
}

function writeReply(stream: AddonStream, reply: Reply | Response, req: H3Request, router: Dispatcher): void {
  const headers: AddonHeaders = { ":status": "" };
  const body: ReplyBody = replyHeaders(reply, headers);
  if (body === null || typeof body === "string" || body instanceof Uint8Array) return whole(stream, reply.status, headers, body, req);
  headers[":status"] = String(reply.status);
  req.status = reply.status;
  if (req.method === "HEAD" || reply.status === 204 || reply.status === 304) {
    stream.respond(headers, END);
    req.answered();
    if (body instanceof ReadableStream) body.cancel().catch(() => {});
    discardUpload(stream, req);
    return;
  }
  stream.respond(headers);
  void pump(stream, body, req, router);
}

/** Streams chunks, waiting for the stream to drain when it says so; stops when the client resets. */
async function pump(stream: AddonStream, body: AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array>, req: H3Request, router: Dispatcher): Promise<void> {
  const source = new Source(body);
  let ended = false;
  stream.once("close", () => {
    if (!ended) source.cancel();
  });
  try {
    for (;;) {
      const next = await source.next();
      if (next.done === true || stream.destroyed) break;
      const chunk = next.value;
      if (!stream.write(typeof chunk === "string" ? chunk : asBuffer(chunk))) await drained(stream);
    }
    if (stream.destroyed) {
      source.cancel();
      return;
    }
    ended = true;
    req.answered();
    stream.end();
    discardUpload(stream, req);
  } catch (error) {
    // Headers are out: report, then reset the stream so the client sees an incomplete body.
    router.recover(error, req);
    abort(stream);
  }
}

/** RESET_STREAM(H3_INTERNAL_ERROR), never FIN: a truncated body must not look complete. */
function abort(stream: AddonStream): void {
  if (!stream.destroyed) stream.close(H3_INTERNAL_ERROR);
}
