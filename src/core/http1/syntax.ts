/**
 * The request-line and chunk-line grammar of the HTTP/1.1 parser (parser.ts): the methods,
 * the request-target forms, chunk extensions. Each check throws the parser's refusal.
 */

import { AUTHORITY, FIELD_VALUE, latin1, QDTEXT, TOKEN } from "./chars.ts";
import { type Http1ErrorCode, type Http1ErrorStatus, Http1ParseError } from "./errors.ts";

/**
 * The request methods llhttp accepts in an HTTP/1.x request line, as node:http names them
 * (`http.METHODS`), less `QUERY`: llhttp 9.3 parses it but Node 20's node:http cannot name it
 * (its `req.method` is undefined), so no tako listener serves it yet. RTSP methods are refused,
 * as llhttp does for an `HTTP/` request line.
 */
export const HTTP1_METHODS: readonly string[] = Object.freeze(
  (
    "DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH SEARCH UNLOCK BIND REBIND UNBIND ACL " +
    "REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY SUBSCRIBE UNSUBSCRIBE PATCH PURGE MKCALENDAR LINK UNLINK SOURCE"
  ).split(" "),
);

/** RTSP's methods (RFC 2326), which llhttp also parses: named only to say why they are refused. */
const RTSP_METHODS = ["DESCRIBE", "ANNOUNCE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER", "REDIRECT", "RECORD", "FLUSH"];

/** Methods by length, for a lookup that compares bytes and never builds a string. */
const METHODS_BY_LENGTH: string[][] = [];
for (const m of HTTP1_METHODS) (METHODS_BY_LENGTH[m.length] ??= []).push(m);

/** Throws the refusal for a broken rule. */
export function refuse(code: Http1ErrorCode, reason: string, status: Http1ErrorStatus = 400): never {
  throw new Http1ParseError(code, status, reason);
}

/** Refuses the method `buf[start, end)` (not one of {@link HTTP1_METHODS}), saying why when a known protocol sent it. */
export function refuseMethod(buf: Uint8Array, start: number, end: number): never {
  const name = latin1(buf, start, end, false);
  if (name === "QUERY") refuse("HPE_INVALID_METHOD", "QUERY is not served yet");
  if (RTSP_METHODS.includes(name)) refuse("HPE_INVALID_METHOD", "an RTSP method");
  // An h2c engine recognises the whole preface (core/h2.ts) before bytes reach this parser.
  if (name === "PRI") refuse("HPE_INVALID_METHOD", "PRI, the HTTP/2 connection preface");
  return refuse("HPE_INVALID_METHOD", "unknown or malformed method");
}

/** True when `buf[from, to)` holds a tab. */
export function hasTab(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] === 9) return true;
  return false;
}

/** The method `buf[start, end)` names, or null. */
export function methodAt(buf: Uint8Array, start: number, end: number): string | null {
  const n = end - start;
  // Hot path: GET and POST, three and four byte compares.
  if (n === 3 && buf[start] === 71 && buf[start + 1] === 69 && buf[start + 2] === 84) return "GET";
  if (n === 4 && buf[start] === 80 && buf[start + 1] === 79 && buf[start + 2] === 83 && buf[start + 3] === 84) return "POST";
  const candidates = METHODS_BY_LENGTH[n];
  if (candidates === undefined) return null;
  next: for (const m of candidates) {
    for (let i = 0; i < m.length; i++) if (buf[start + i] !== m.charCodeAt(i)) continue next;
    return m;
  }
  return null;
}

/**
 * The four forms of RFC 9112 §3.2, at least as narrow as llhttp's URL grammar: origin-form
 * (`/…`); absolute-form (`scheme://authority[/?…]`, letters-only scheme and at most one `@`,
 * as llhttp; a non-empty authority, which llhttp does not require); authority-form for
 * CONNECT only, and only authority characters (llhttp also takes `/` and `?` there);
 * asterisk-form for OPTIONS only, `*` alone (llhttp takes `*…` with any method).
 */
export function checkTarget(buf: Uint8Array, start: number, end: number, method: string): void {
  if (method === "CONNECT") {
    for (let i = start; i < end; i++) if (AUTHORITY[buf[i]!] === 0) refuse("HPE_INVALID_URL", "a CONNECT target must be host:port");
    return;
  }
  const c = buf[start]!;
  if (c === 47) return;
  if (c === 42) {
    if (end - start === 1 && method === "OPTIONS") return;
    refuse("HPE_INVALID_URL", "asterisk-form is `OPTIONS *` only");
  }
  let i = start;
  while (i < end && (buf[i]! | 0x20) >= 97 && (buf[i]! | 0x20) <= 122) i++;
  if (i === start || end - i < 3 || buf[i] !== 58 || buf[i + 1] !== 47 || buf[i + 2] !== 47) refuse("HPE_INVALID_URL", "malformed request target");
  i += 3;
  const authority = i;
  let at = 0;
  for (; i < end && buf[i] !== 47 && buf[i] !== 63; i++) {
    if (AUTHORITY[buf[i]!] === 0 || (buf[i] === 64 && ++at > 1)) refuse("HPE_INVALID_URL", "malformed authority in the request target");
  }
  if (i === authority) refuse("HPE_INVALID_URL", "empty authority in the request target");
}

/** `*( ";" token [ "=" ( token / quoted-string ) ] )` with no whitespace (RFC 9112 §7.1.1; llhttp strict). */
export function checkExtensions(buf: Uint8Array, start: number, end: number): void {
  let i = start;
  while (i < end) {
    if (buf[i] !== 59) refuse("HPE_STRICT", "malformed chunk extension");
    const name = ++i;
    while (i < end && TOKEN[buf[i]!] === 1) i++;
    if (i === name) refuse("HPE_STRICT", "empty chunk extension name");
    if (i === end || buf[i] !== 61) continue;
    i++;
    if (buf[i] === 34) {
      i++;
      for (;;) {
        if (i >= end) refuse("HPE_STRICT", "unterminated quoted chunk extension value");
        const q = buf[i++]!;
        if (q === 34) break;
        if (q === 92) {
          if (i >= end || FIELD_VALUE[buf[i]!] === 0) refuse("HPE_STRICT", "malformed quoted-pair in a chunk extension");
          i++;
        } else if (QDTEXT[q] === 0) refuse("HPE_STRICT", "a control character in a chunk extension");
      }
    } else {
      const value = i;
      while (i < end && TOKEN[buf[i]!] === 1) i++;
      if (i === value) refuse("HPE_STRICT", "empty chunk extension value");
    }
  }
}
