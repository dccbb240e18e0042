import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { ConnInfo } from "../../core/conn-info.ts";
import type { ProxyHeader } from "../../core/proxy-protocol/index.ts";
import { isConnectionSpecific } from "../../core/h2.ts";
import { TakoRequest } from "../../core/request.ts";
import { errorReply, isPlainJson, JSON_TYPE, TEXT_TYPE, toReply, type HandlerResult } from "../../core/responder.ts";
import type { Reply, ReplyBody } from "../../core/response.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import { proxiedHeader, proxiedHeaders } from "./proxy.ts";
import { collect, parseUtf8Json, utf8 } from "./request.ts";

const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR } = constants;
const END = { endStream: true } as const;

/** What the HTTP/2 request view needs of its connection. */
export interface H2ConnFacts {
  readonly conn: ConnInfo;
  readonly proxy: ProxyHeader | null;
  readonly resets: { completed(): void };
}

/**
 * The request view over an HTTP/2 stream: pseudo-headers give method and target; `Host` falls
 * back to `:authority`, so handlers read the same headers as on HTTP/1.1.
 */
export class H2Request extends TakoRequest {
  readonly native: ServerHttp2Stream;
  readonly #h: IncomingHttpHeaders;
  /** The HEADERS frame ended the stream: the request has no body. */
  readonly #noBody: boolean;
  readonly #facts: H2ConnFacts;
  #headers: Headers | null = null;

  constructor(native: ServerHttp2Stream, headers: IncomingHttpHeaders, noBody: boolean, facts: H2ConnFacts) {
    super();
    this.native = native;
    this.#h = headers;
    this.#noBody = noBody;
    this.#facts = facts;
  }

  get method(): string {
    return this.#h[":method"] as string;
  }

  get target(): string {
    return (this.#h[":path"] as string | undefined) ?? "/";
  }

  get conn(): ConnInfo {
    return this.#facts.conn;
  }

  get headers(): Headers {
    if (this.#headers === null) {
      const h = new Headers();
      const raw = this.#h;
      for (const name in raw) {
        if (name.charCodeAt(0) === 58) continue; // pseudo-headers (':…')
        const value = raw[name];
        if (typeof value === "string") h.append(name, value);
        else if (value !== undefined) for (const v of value) h.append(name, v);
      }
      const authority = raw[":authority"];
      if (!h.has("host") && typeof authority === "string") h.set("host", authority);
      const proxy = this.#facts.proxy;
      this.#headers = proxy === null ? h : proxiedHeaders(h, proxy);
    }
    return this.#headers;
  }

  header(name: string): string | null {
    const key = name.toLowerCase();
    const proxy = this.#facts.proxy;
    if (proxy !== null) {
      const own = proxiedHeader(key, proxy);
      if (own !== undefined) return own;
    }
    const value = this.#h[key] ?? (key === "host" ? this.#h[":authority"] : undefined);
    if (value === undefined) return null;
    return typeof value === "string" ? value : value.join(", ");
  }

  /** Completed responses pay back the connection's rapid-reset account. */
  completed(): void {
    this.#facts.resets.completed();
  }

  /** The client is still sending a body nobody read. */
  get bodyLeft(): boolean {
    return !this.#noBody && !this.native.readableEnded;
  }

  protected override readBody(limit: number): Promise<Uint8Array> {
    return collect(this.#noBody ? null : this.native, limit);
  }

  protected override readText(limit: number): Promise<string> {
    return this.readBody(limit).then(utf8);
  }

  protected override readJson(limit: number): Promise<unknown> {
    return this.readBody(limit).then(parseUtf8Json);
  }

  protected bodySource(): AsyncIterable<Uint8Array> | null {
    return this.#noBody ? null : this.native;
  }
}

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
    if (stream.headersSent) stream.close(NGHTTP2_INTERNAL_ERROR);
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
      return writeReply(stream, safeReply(ctx.router.recover(error, req)), req, ctx);
    }
    return whole(stream, 200, { "content-type": JSON_TYPE }, body, req);
  }
  let reply: Reply | Response;
  try {
    reply = toReply(value);
  } catch (error) {
    reply = safeReply(ctx.router.recover(error, req));
  }
  writeReply(stream, reply, req, ctx);
}

function safeReply(value: HandlerResult): Reply | Response {
  try {
    return toReply(value);
  } catch (error) {
    return errorReply(error);
  }
}

/** A whole body: one HEADERS (with content-length) and one DATA frame, or HEADERS alone for HEAD. */
function whole(stream: ServerHttp2Stream, status: number, headers: OutgoingHttpHeaders, body: string | Uint8Array | null, req: H2Request): void {
  headers[":status"] = status;
  const size = body === null ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  const bodyless = status === 204 || status === 304;
  if (!bodyless) headers["content-length"] = size;
  if (size === 0 || bodyless || req.method === "HEAD") {
    stream.respond(headers, END);
  } else {
    stream.respond(headers);
    stream.end(body);
  }
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

function writeReply(stream: ServerHttp2Stream, reply: Reply | Response, req: H2Request, ctx: H2SendContext): void {
  const headers: OutgoingHttpHeaders = {};
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
  if (body === null || typeof body === "string" || body instanceof Uint8Array) return whole(stream, reply.status, headers, body, req);
  headers[":status"] = reply.status;
  if (req.method === "HEAD" || reply.status === 204 || reply.status === 304) {
    stream.respond(headers, END);
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
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      if (stream.destroyed || stream.closed) break;
      const size = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength;
      if (stream.writableLength + size > ctx.maxSendBuf) await flushed(stream, chunk);
      else stream.write(chunk);
    }
    if (stream.destroyed || stream.closed) {
      if (body instanceof ReadableStream) body.cancel().catch(() => {});
      return;
    }
    stream.end();
    if (req.bodyLeft) stopUpload(stream);
  } catch (error) {
    // Headers are out: report, then reset the stream so the client sees an incomplete body.
    ctx.router.recover(error, req);
    if (!stream.destroyed) stream.close(NGHTTP2_INTERNAL_ERROR);
  }
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
