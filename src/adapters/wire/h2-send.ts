import type { OutgoingHttpHeaders } from "node:http2";
import { H2Code } from "../../core/http2/index.ts";
import { errorReply, type HandlerResult, isPlainJson, settle, settleError, toReply } from "../../core/responder.ts";
import type { Reply } from "../../core/response.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import { replyHeaders } from "../node/h2-send.ts";
import { Source } from "../node/send.ts";
import type { WireH2Request } from "./h2-request.ts";

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** What the send path needs of an HTTP/2 connection on tako's codec. */
export interface H2SendHost {
  readonly router: Dispatcher;
  /** `["date", <IMF-fixdate>]`, and the fields of a text and a JSON response with it. */
  readonly dateHeader: readonly string[];
  readonly textHeaders: readonly string[];
  readonly jsonHeaders: readonly string[];
  /** The codec's response calls (`H2ServerConnection`). */
  respond(streamId: number, status: number, headers: readonly string[], endStream: boolean): boolean;
  sendData(streamId: number, bytes: Uint8Array, end: boolean): boolean;
  reset(streamId: number, code: number): void;
  /** The response to `req` was handed over whole. */
  responseDone(req: WireH2Request): void;
}

/** Statuses whose responses never carry a body (RFC 9110 §6.4.1). */
const noBody = (status: number): boolean => status === 204 || status === 304;

/**
 * Hot path: writes a handler result as the response on `req`'s stream. A string or a plain JSON
 * value is one HEADERS and one DATA frame (written together); a Fetch `Response`, a `Reply`
 * and errors go through the responder (`settle`) and the fields HTTP/2 carries
 * (`replyHeaders`, shared with Node's HTTP/2 path); streams are sent chunk by chunk under the
 * stream's send buffer (`h2MaxSendBufSize`) and flow-control windows. A stream already gone
 * is left alone.
 */
export function sendH2(host: H2SendHost, req: WireH2Request, value: HandlerResult): void {
  if (req.finished) return;
  const router = host.router;
  try {
    if (typeof value === "string") return whole(host, req, 200, host.textHeaders, encoder.encode(value));
    if (typeof value === "object" && value !== null && isPlainJson(value)) {
      let body: string;
      try {
        body = JSON.stringify(value);
      } catch (error) {
        return writeReply(host, req, settleError(router, error, req, toReply, undefined));
      }
      return whole(host, req, 200, host.jsonHeaders, encoder.encode(body));
    }
    writeReply(host, req, settle(router, value, req, toReply, undefined));
  } catch (error) {
    // A header value with CR/LF (refused by replyHeaders): reported; 500 when nothing went out.
    router.recover(error, req);
    if (req.finished) return;
    if (req.headSent) return abort(host, req);
    try {
      writeReply(host, req, errorReply(error));
    } catch {
      abort(host, req);
    }
  }
}

/** A whole body: HEADERS with its length, then one DATA with END_STREAM (HEADERS alone for HEAD, 204, 304, an empty body). */
function whole(host: H2SendHost, req: WireH2Request, status: number, headers: readonly string[], body: Uint8Array): void {
  const bodyless = noBody(status);
  const fields = bodyless ? headers : [...headers, "content-length", String(body.length)];
  req.status = status;
  req.headSent = true;
  if (bodyless || body.length === 0 || req.method === "HEAD") host.respond(req.streamId, status, fields, true);
  else if (host.respond(req.streamId, status, fields, false)) host.sendData(req.streamId, body, true);
  host.responseDone(req);
}

/** A reply's fields as a flat list, with a `date` unless the handler set one. */
function flatten(headers: OutgoingHttpHeaders, date: readonly string[]): string[] {
  const list: string[] = [];
  let dated = false;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (name === "date") dated = true;
    if (Array.isArray(value)) for (const v of value) list.push(name, v);
    else list.push(name, String(value));
  }
  if (!dated) list.push(date[0]!, date[1]!);
  return list;
}

function writeReply(host: H2SendHost, req: WireH2Request, reply: Reply | Response): void {
  const map: OutgoingHttpHeaders = {};
  const body = replyHeaders(reply, map);
  // A whole body's own length wins; a streamed one keeps the length its handler declared.
  const length = map["content-length"];
  delete map["content-length"];
  const status = reply.status;
  const fields = flatten(map, host.dateHeader);
  if (body === null || typeof body === "string" || body instanceof Uint8Array) {
    return whole(host, req, status, fields, body === null ? EMPTY : typeof body === "string" ? encoder.encode(body) : body);
  }
  if (length !== undefined && !noBody(status)) fields.push("content-length", String(length));
  req.status = status;
  req.headSent = true;
  if (req.method === "HEAD" || noBody(status)) {
    host.respond(req.streamId, status, fields, true);
    discard(body);
    return host.responseDone(req);
  }
  // Refused (the stream is gone, or the head is over the client's header-list limit and the
  // stream was reset): the body will never be sent.
  if (!host.respond(req.streamId, status, fields, false)) return discard(body);
  void pump(host, req, body);
}

/** A streamed body that will not be sent: its source is cancelled. */
function discard(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>): void {
  if (body instanceof ReadableStream) body.cancel().catch(() => {});
  else Promise.resolve(body[Symbol.asyncIterator]().return?.()).catch(() => {});
}

/**
 * Streams chunks, waiting whenever the stream's queue passes `h2MaxSendBufSize` (a peer that
 * does not read keeps the server's memory flat); the source is cancelled at once when the
 * stream ends first (reset, connection gone).
 */
async function pump(host: H2SendHost, req: WireH2Request, body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>): Promise<void> {
  const source = new Source(body);
  req.cancelSource = () => source.cancel();
  try {
    for (;;) {
      const next = await source.next();
      if (next.done === true || req.finished) break;
      const chunk = typeof next.value === "string" ? encoder.encode(next.value) : next.value;
      if (chunk.length === 0) continue;
      if (!host.sendData(req.streamId, chunk, false)) await req.drained();
      if (req.finished) break;
    }
    if (req.finished) return source.cancel();
    host.sendData(req.streamId, EMPTY, true);
    host.responseDone(req);
  } catch (error) {
    // The head is out: report, then reset the stream so the client sees an incomplete body.
    source.cancel();
    host.router.recover(error, req);
    abort(host, req);
  }
}

/** RST_STREAM INTERNAL_ERROR: the response cannot be completed, and never looks complete. */
function abort(host: H2SendHost, req: WireH2Request): void {
  host.reset(req.streamId, H2Code.INTERNAL_ERROR);
  req.gone();
}
