import { encodeChunk, type Http1BodyFraming, LAST_CHUNK, serializeResponse, serializeResponseHead, serializeTextResponse } from "../../core/http1/response.ts";
import { errorReply, type HandlerResult, isPlainJson, settle, settleError, toReply } from "../../core/responder.ts";
import type { HeaderMap, Reply, ReplyBody } from "../../core/response.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import { Source } from "../node/send.ts";
import type { H1Conn } from "./h1-conn.ts";
import type { H1Request } from "./h1-request.ts";

const encoder = new TextEncoder();

/** Bytes a streamed response may have waiting for the kernel before the source is read again. */
const WRITE_HIGH_WATER = 64 * 1024;

/** Statuses whose responses never carry a body (RFC 9110 §6.4.1). */
const noBody = (status: number): boolean => status === 204 || status === 304 || status < 200;

/**
 * Hot path: writes a handler result as the response to `req`, in order on its connection. A
 * string or a plain JSON value is one serialised buffer (head and body, one write); other whole
 * bodies likewise; streams are written chunk by chunk (chunked coding, or the Content-Length the
 * handler set) with socket backpressure. A result for a request already given up (the client
 * left, a refusal was sent instead) is dropped.
 */
export function send(conn: H1Conn, req: H1Request, value: HandlerResult): void {
  if (req.finished || conn.current !== req) return;
  const router = conn.server.router;
  try {
    if (typeof value === "string") return whole(conn, req, 200, conn.server.textHeaders, value, false);
    if (typeof value === "object" && value !== null && isPlainJson(value)) {
      let body: string;
      try {
        body = JSON.stringify(value);
      } catch (error) {
        return writeReply(conn, req, settleError(router, error, req, toReply, undefined));
      }
      return whole(conn, req, 200, conn.server.jsonHeaders, body, false);
    }
    writeReply(conn, req, settle(router, value, req, toReply, undefined));
  } catch (error) {
    failed(conn, req, router, error);
  }
}

/** A reply decided before dispatch (a refused head). */
export function sendReply(conn: H1Conn, req: H1Request, reply: Reply): void {
  try {
    writeReply(conn, req, reply);
  } catch (error) {
    failed(conn, req, conn.server.router, error);
  }
}

/**
 * The head could not be written (a header value with CR/LF, an invalid name or status): reported
 * (the hook's answer could fail the same way, so it is not used), then 500 if nothing went out.
 */
function failed(conn: H1Conn, req: H1Request, router: Dispatcher, error: unknown): void {
  router.recover(error, req);
  if (req.headSent) return conn.cut(req);
  try {
    writeReply(conn, req, errorReply(error));
  } catch {
    conn.destroy();
  }
}

/** Response headers as the codec writes them, and what they say about framing and the connection. */
class Head {
  readonly list: string[] = [];
  /** A Content-Length the handler set (used for a streamed body; a whole body's own length wins). */
  length: number | null = null;
  close = false;
  #date = false;

  add(name: string, value: string | readonly string[]): void {
    const n = name.length;
    if (n === 14 || n === 17 || n === 10 || n === 4) {
      const lower = name.toLowerCase();
      if (lower === "content-length") {
        const v = Number(typeof value === "string" ? value : value[0]);
        this.length = Number.isSafeInteger(v) && v >= 0 ? v : null;
        return;
      }
      if (lower === "transfer-encoding") return; // the framing is the codec's to choose
      if (lower === "connection") {
        const v = typeof value === "string" ? value : value.join(",");
        if (/(?:^|,)\s*close\s*(?:,|$)/i.test(v)) this.close = true;
        return;
      }
      if (lower === "date") this.#date = true;
    }
    if (typeof value === "string") this.list.push(name, value);
    else for (const v of value) this.list.push(name, v);
  }

  done(date: readonly string[]): readonly string[] {
    if (!this.#date) this.list.push(date[0]!, date[1]!);
    return this.list;
  }
}

function writeReply(conn: H1Conn, req: H1Request, reply: Reply | Response): void {
  const head = new Head();
  let status: number;
  let reason: string | undefined;
  let body: ReplyBody;
  if (reply instanceof Response) {
    status = reply.status;
    if (reply.statusText !== "") reason = reply.statusText;
    reply.headers.forEach((value, name) => {
      if (name !== "set-cookie") head.add(name, value);
    });
    const cookies = reply.headers.getSetCookie();
    if (cookies.length > 0) head.add("set-cookie", cookies);
    body = reply.body as ReplyBody;
  } else {
    status = reply.status;
    const map: HeaderMap = reply.headers;
    for (const name in map) head.add(name, map[name]!);
    body = reply.body;
  }
  const headers = head.done(conn.server.dateHeader);
  if (body === null || typeof body === "string" || body instanceof Uint8Array) {
    return whole(conn, req, status, headers, body ?? EMPTY, head.close, reason);
  }
  stream(conn, req, status, headers, body, head, reason);
}

const EMPTY = new Uint8Array(0);

/** A response whose body is known (text goes out as UTF-8): one buffer, one write (the head alone for HEAD, 204, 304). */
function whole(conn: H1Conn, req: H1Request, status: number, headers: readonly string[], text: Uint8Array | string, asked: boolean, reason?: string): void {
  const close = conn.closesWith(req, asked);
  const omit = req.head.method === "HEAD";
  let bytes: Uint8Array;
  let rest: Uint8Array | null = null;
  if (noBody(status)) bytes = serializeResponseHead(status, headers, "none", close, reason);
  else if (reason === undefined)
    bytes = typeof text === "string" ? serializeTextResponse(status, headers, text, close, omit) : serializeResponse(status, headers, text, close, omit);
  else {
    const body = typeof text === "string" ? encoder.encode(text) : text;
    // A reason phrase of the handler's (a Fetch Response's statusText): head, then body.
    bytes = serializeResponseHead(status, headers, { length: body.length }, close, reason);
    if (!omit && body.length > 0) rest = body;
  }
  req.status = status;
  req.headSent = true;
  conn.write(bytes);
  if (rest !== null) conn.write(rest);
  conn.responseDone(req);
}

/**
 * A streamed body: chunked (or the handler's Content-Length; HTTP/1.0 without one: delimited by
 * the close), read only while the socket keeps up. When the client leaves, the source is
 * cancelled at once (the connection calls `cancelSource`).
 */
function stream(
  conn: H1Conn,
  req: H1Request,
  status: number,
  headers: readonly string[],
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>,
  head: Head,
  reason: string | undefined,
): void {
  const bodiless = noBody(status) || req.head.method === "HEAD";
  const http10 = req.head.versionMinor === 0 && head.length === null;
  const close = conn.closesWith(req, head.close || (http10 && !bodiless));
  const framing: Http1BodyFraming = head.length !== null ? { length: head.length } : bodiless || http10 ? "none" : "chunked";
  const bytes = serializeResponseHead(status, headers, noBody(status) ? "none" : framing, close, reason);
  req.status = status;
  req.headSent = true;
  conn.write(bytes);
  if (bodiless) {
    cancel(body);
    return conn.responseDone(req);
  }
  void pump(conn, req, body, framing);
}

function cancel(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>): void {
  if (body instanceof ReadableStream) body.cancel().catch(() => {});
  else {
    const it = body[Symbol.asyncIterator]();
    Promise.resolve(it.return?.()).catch(() => {});
  }
}

async function pump(conn: H1Conn, req: H1Request, body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>, framing: Http1BodyFraming): Promise<void> {
  const source = new Source(body);
  req.cancelSource = () => source.cancel();
  const chunked = framing === "chunked";
  const length = typeof framing === "object" ? framing.length : null;
  let sent = 0;
  try {
    for (;;) {
      const next = await source.next();
      if (next.done === true || req.finished) break;
      const chunk = typeof next.value === "string" ? encoder.encode(next.value) : next.value;
      if (chunk.length === 0) continue;
      sent += chunk.length;
      if (length !== null && sent > length) throw new Error(`the streamed body is longer than its Content-Length (${length})`);
      conn.write(chunked ? encodeChunk(chunk) : chunk);
      if (conn.buffered > WRITE_HIGH_WATER) await conn.writable();
      if (req.finished) break;
    }
    if (req.finished) return source.cancel();
    if (length !== null && sent < length) throw new Error(`the streamed body ended after ${sent} of its ${length} bytes`);
    if (chunked) conn.write(LAST_CHUNK);
    conn.responseDone(req);
  } catch (error) {
    // The head is out: the status can no longer change. Report, then cut the connection so the
    // client sees a truncated body rather than a complete-looking one.
    source.cancel();
    conn.server.router.recover(error, req);
    // Delimited by the close itself (HTTP/1.0 without a length): only a reset tells it apart.
    if (framing === "none") conn.destroy();
    else conn.cut(req);
  }
}
