/**
 * HTTP/1.1 response framing (RFC 9112 §4, §6, §7.1): a response head serialised to bytes, and
 * the chunked coding for a body of unknown length. A header name that is not a token, or a
 * value with CR, LF, NUL or another control character (or a char above U+00FF, which latin1
 * cannot carry), throws an {@link Http1ResponseError} before any byte is written: the caller
 * answers 500 instead, as node:http's own check makes tako do on Node (the injected line never
 * reaches the wire).
 */

import { defaultReason } from "../errors.ts";
import { FIELD_VALUE, TOKEN } from "./chars.ts";

/** A response head the codec refuses to write: an invalid name, value, status or reason. */
export class Http1ResponseError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "Http1ResponseError";
  }
}

/** How the body that follows the head is delimited. */
export type Http1BodyFraming = { readonly length: number } | "chunked" | "none";

const ascii = new TextEncoder();

/** Reason phrases below 400 (errors.ts has the error ones); RFC 9112 §4 allows an empty one. */
const REASONS: Readonly<Record<number, string>> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
};
/** Status lines with the default reason, by status. */
const statusLines: string[] = [];

function statusLine(status: number, reason: string | undefined): string {
  if (reason === undefined) {
    const cached = statusLines[status];
    if (cached !== undefined) return cached;
  }
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new Http1ResponseError(`invalid status ${status}`);
  const text = reason ?? REASONS[status] ?? (status >= 400 ? defaultReason(status) : "");
  if (checkValue(text) < 0) throw new Http1ResponseError("invalid reason phrase");
  const line = `HTTP/1.1 ${status} ${text}\r\n`;
  if (reason === undefined) statusLines[status] = line;
  return line;
}

/** The highest char code of `s` when every char is a field-value char (HTAB, SP–~, 0x80–0xFF); -1 otherwise. */
function checkValue(s: string): number {
  let max = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] === 0) return -1;
    max |= c;
  }
  return max;
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || TOKEN[c] === 0) return false;
  }
  return true;
}

/** True when `name` is Content-Length or Transfer-Encoding (any case): framing is the serializer's to write. */
function isFraming(name: string): boolean {
  return (name.length === 14 && name.toLowerCase() === "content-length") || (name.length === 17 && name.toLowerCase() === "transfer-encoding");
}

/**
 * A response head as bytes: status line, `headers` (`[name, value, …]`, written as given),
 * then the framing (`content-length: n` or `transfer-encoding: chunked`) and `connection:
 * close` when `close`. Framing fields in `headers` are refused: the body framing is decided
 * once, here. Values are latin1, as node:http writes them.
 */
export function serializeResponseHead(status: number, headers: readonly string[], framing: Http1BodyFraming, close = false, reason?: string): Uint8Array {
  const head = headText(status, headers, framing, close, reason);
  return toBytes(head, 0, null);
}

/**
 * A whole response with a body known in advance, head and body in one allocation (one write):
 * as {@link serializeResponseHead} with `content-length: body.length`. `omitBody` (a HEAD
 * request) writes the head alone, with the length the body would have.
 */
export function serializeResponse(status: number, headers: readonly string[], body: Uint8Array, close = false, omitBody = false): Uint8Array {
  const head = headText(status, headers, { length: body.length }, close, undefined);
  return toBytes(head, omitBody ? 0 : body.length, body);
}

/**
 * Whether the head {@link headText} built last has a char ≥ 0x80 (it sets it, {@link toBytes}
 * reads it right after): a flag instead of a returned pair saves an allocation per response.
 */
let headWide = false;

function headText(status: number, headers: readonly string[], framing: Http1BodyFraming, close: boolean, reason: string | undefined): string {
  let head = statusLine(status, reason);
  let wide = reason === undefined ? 0 : checkValue(reason);
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (!isToken(name)) throw new Http1ResponseError(`invalid response header name ${JSON.stringify(name)}`);
    if (isFraming(name)) throw new Http1ResponseError(`${name} is set by the framing argument`);
    const max = checkValue(value);
    if (max < 0) throw new Http1ResponseError(`invalid character in the value of response header ${name}`);
    wide |= max;
    head += `${name}: ${value}\r\n`;
  }
  if (framing === "chunked") head += "transfer-encoding: chunked\r\n";
  else if (framing !== "none") {
    if (!Number.isSafeInteger(framing.length) || framing.length < 0) throw new Http1ResponseError(`invalid content length ${framing.length}`);
    head += `content-length: ${framing.length}\r\n`;
  }
  if (close) head += "connection: close\r\n";
  headWide = wide >= 0x80;
  return `${head}\r\n`;
}

/** `head` (one byte per char) followed by `bodyLength` bytes of `body`, in one array. */
function toBytes(head: string, bodyLength: number, body: Uint8Array | null): Uint8Array {
  const out = new Uint8Array(head.length + bodyLength);
  if (headWide) for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
  else ascii.encodeInto(head, out);
  if (bodyLength > 0) out.set(body!, head.length);
  return out;
}

/** One chunk of a chunked body: `size CRLF data CRLF`, as one copy. An empty `data` would end the body, so it is refused. */
export function encodeChunk(data: Uint8Array): Uint8Array {
  if (data.length === 0) throw new Http1ResponseError("an empty chunk would end the body; use LAST_CHUNK");
  const size = data.length.toString(16);
  const out = new Uint8Array(size.length + 2 + data.length + 2);
  for (let i = 0; i < size.length; i++) out[i] = size.charCodeAt(i);
  out[size.length] = 13;
  out[size.length + 1] = 10;
  out.set(data, size.length + 2);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

/** The end of a chunked body without trailers. */
export const LAST_CHUNK: Uint8Array = Uint8Array.of(0x30, 13, 10, 13, 10);
