/**
 * What an HTTP/1.1 request head must satisfy before tako routes it, for the listeners whose
 * parser does not check it itself. Pure: strings in, a verdict out; each engine reads the few
 * fields from its native request and calls these.
 *
 * ## Which authority a request is for (RFC 9112 §3.2, §3.2.2; RFC 9110 §7.2)
 *
 * - **Absolute-form target** (`GET http://a.example:8080/x HTTP/1.1`): the authority is the one
 *   in the target. A Host header sent with it does not count: tako replaces it, so a handler
 *   reading `req.header("host")` or `req.headers.get("host")` gets the target's `host[:port]`
 *   (`a.example:8080`), whatever the Host line said. `req.target` and `req.path` are the target
 *   reduced to its path and query (`/x`). The target must be an `http` or `https` URI with a
 *   non-empty host and no userinfo (RFC 9110 §4.2.1, §4.2.4); anything else is answered 400.
 * - **Origin-form target** (`GET /x HTTP/1.1`): the authority is the Host header.
 * - Either way an HTTP/1.1 request must carry exactly one Host line (also with an absolute-form
 *   target), and its value must be `uri-host [ ":" port ]` as RFC 3986 §3.2.2–3.2.3 define them
 *   (see {@link isValidHost}). No Host, two Host lines, or a value outside that syntax is
 *   answered 400. HTTP/1.0 may omit Host.
 *
 * HTTP/2 carries the authority in `:authority`, outside this module.
 */

import { HttpError } from "./errors.ts";

/** RFC 3986 reg-name bytes: unreserved (`A-Z a-z 0-9 - . _ ~`), sub-delims (`! $ & ' ( ) * + , ; =`) and `%` of pct-encoded. */
const REG_NAME = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%") REG_NAME[c.charCodeAt(0)] = 1;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHex = (c: number): boolean => isDigit(c) || ((c | 32) >= 97 && (c | 32) <= 102);

/** The last Host value found valid: keep-alive clients send the same one with every request. */
let lastValidHost = "";

/**
 * True when `value` is `uri-host [ ":" port ]` (RFC 9110 §7.2 with RFC 3986 §3.2.2–3.2.3): a
 * reg-name (unreserved, sub-delims, pct-encoded), an IPv4 address, or an IP-literal in brackets
 * (IPv6 or IPvFuture), then optionally `:` and digits. The empty value is valid (RFC 9112 §3.2:
 * a client sends it when the target URI has no authority); a port without a host (`:80`) is not
 * (RFC 9110 §4.2.1: an http URI needs a host). Two Host lines joined by a parser (`a, b`)
 * fail on the space.
 *
 * Hot path: a repeated value costs one string compare; a new one a scan of its characters
 * against a 128-entry table. IP-literals take a slower exact check.
 */
export function isValidHost(value: string): boolean {
  if (value === lastValidHost) return true;
  if (!checkHost(value)) return false;
  lastValidHost = value;
  return true;
}

function checkHost(v: string): boolean {
  const n = v.length;
  if (n === 0) return true;
  let i = 0;
  if (v.charCodeAt(0) === 91 /* [ */) {
    const close = v.indexOf("]");
    if (close === -1 || !isIpLiteral(v.slice(1, close))) return false;
    i = close + 1;
  } else {
    for (; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c === 58 /* : */) break;
      if (c >= 128 || REG_NAME[c] === 0) return false;
      if (c === 37 /* % */ && !(isHex(v.charCodeAt(i + 1)) && isHex(v.charCodeAt(i + 2)))) return false;
    }
    if (i === 0) return false;
  }
  if (i === n) return true;
  if (v.charCodeAt(i) !== 58) return false;
  for (i++; i < n; i++) if (!isDigit(v.charCodeAt(i))) return false;
  return true;
}

/** IP-literal without its brackets: IPv6address or IPvFuture (RFC 3986 §3.2.2). */
function isIpLiteral(s: string): boolean {
  if ((s.charCodeAt(0) | 32) === 118 /* v */) return isIpvFuture(s);
  return isIpv6(s);
}

/** IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
function isIpvFuture(s: string): boolean {
  const dot = s.indexOf(".");
  if (dot < 2 || dot === s.length - 1) return false;
  for (let i = 1; i < dot; i++) if (!isHex(s.charCodeAt(i))) return false;
  for (let i = dot + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 58 && (c >= 128 || REG_NAME[c] === 0 || c === 37)) return false;
  }
  return true;
}

/** IPv6address: eight 16-bit groups (the last two may be an IPv4 address), or fewer around one `::`. */
function isIpv6(s: string): boolean {
  const gap = s.indexOf("::");
  if (gap !== -1 && s.indexOf("::", gap + 1) !== -1) return false;
  const parts = gap === -1 ? [s] : [s.slice(0, gap), s.slice(gap + 2)];
  let groups = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    if (part === "") continue;
    const fields = part.split(":");
    for (let f = 0; f < fields.length; f++) {
      const field = fields[f]!;
      if (p === parts.length - 1 && f === fields.length - 1 && field.includes(".")) {
        if (!isIpv4(field)) return false;
        groups += 2;
      } else {
        if (field.length === 0 || field.length > 4) return false;
        for (let i = 0; i < field.length; i++) if (!isHex(field.charCodeAt(i))) return false;
        groups += 1;
      }
    }
  }
  return gap === -1 ? groups === 8 : groups <= 7;
}

/** IPv4address: four dec-octets (0–255, no leading zero). */
function isIpv4(s: string): boolean {
  const octets = s.split(".");
  if (octets.length !== 4) return false;
  for (const o of octets) {
    if (o.length === 0 || o.length > 3 || (o.length > 1 && o.charCodeAt(0) === 48)) return false;
    for (let i = 0; i < o.length; i++) if (!isDigit(o.charCodeAt(i))) return false;
    if (Number(o) > 255) return false;
  }
  return true;
}

/** Where the authority of an absolute URI ends: at the path, the query or the fragment. */
function authorityEnd(url: string, from: number): number {
  for (let i = from; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) return i;
  }
  return url.length;
}

/**
 * The authority of an absolute-form target or absolute URL (`http://a.example:8080/x` →
 * `a.example:8080`, userinfo included if present); `null` for any other form (`/x`, `*`,
 * `a.example:443`).
 */
export function absoluteAuthority(url: string): string | null {
  if (url.charCodeAt(0) === 47) return null;
  const scheme = url.indexOf("://");
  if (scheme === -1) return null;
  return url.slice(scheme + 3, authorityEnd(url, scheme + 3));
}

/**
 * A request target reduced to origin-form, what `req.target` shows: `/x?q` as is;
 * `http://a.example/x?q` → `/x?q`; `http://a.example?q` → `/?q`; `http://a.example` → `/`.
 * Asterisk-form (`*`) and authority-form (`a.example:443`) are returned unchanged.
 */
export function originForm(url: string): string {
  if (url.charCodeAt(0) === 47) return url;
  const scheme = url.indexOf("://");
  if (scheme === -1) return url;
  const end = authorityEnd(url, scheme + 3);
  if (end === url.length) return "/";
  return url.charCodeAt(end) === 47 ? url.slice(end) : `/${url.slice(end)}`;
}

/**
 * Why an absolute-form target cannot be served, or `null` when it can: the scheme must be
 * `http` or `https`, the authority a valid non-empty host[:port] without userinfo.
 */
export function absoluteFormProblem(url: string): string | null {
  const scheme = url.indexOf("://");
  if (scheme === -1) return null;
  const name = url.slice(0, scheme).toLowerCase();
  if (name !== "http" && name !== "https") return "the request target's scheme is not http or https";
  const authority = url.slice(scheme + 3, authorityEnd(url, scheme + 3));
  if (authority.includes("@")) return "the request target carries userinfo";
  if (authority === "" || !isValidHost(authority)) return "the request target's authority is not a valid host[:port]";
  return null;
}

/**
 * True when a Transfer-Encoding value is exactly `chunked` (any case): the only transfer coding
 * tako decodes.
 *
 * Anything else is refused with 400 and a closed connection. With `chunked` missing or not last
 * the body cannot be framed (RFC 9112 §6.3: 400, then close). With `chunked` last after other
 * codings (`identity, chunked`, `gzip, chunked`) the framing is defined, but the other coding is
 * one tako does not implement: `identity` is not a registered transfer coding (RFC 9112 §7), and
 * decoding `gzip` is not done, so the handler would get bytes still encoded. RFC 9112 §6.1 says a
 * server SHOULD answer such a coding 501; tako answers 400 instead because Bun.serve and
 * Deno.serve refuse these requests with 400 in their own parsers, before any tako code runs, so
 * 400 is the one answer every listener gives. Either status closes the connection: a peer (say a
 * proxy in front) that framed the body differently must not get a second request read out of it
 * (RFC 9112 §11.2).
 */
export function isChunkedOnly(te: string): boolean {
  return te.length === 7 && (te === "chunked" || te.toLowerCase() === "chunked");
}

/** The reasons tako gives for a request head it refuses. */
export const HEAD_PROBLEMS = {
  missingHost: "an HTTP/1.1 request needs a Host header",
  duplicateHost: "more than one Host header",
  invalidHost: "the Host header is not a valid host[:port]",
  transferEncoding: "Transfer-Encoding other than chunked is not supported",
  version: "this server speaks HTTP/1.x in a request line",
  controlChar: "a header value contains a control character",
} as const;

/**
 * The error for a refused head: `status` with `reason`, and `Connection: close`, since what
 * follows on the connection cannot be trusted to start a request.
 */
export function refuseHead(status: 400 | 505, reason: string): HttpError {
  return new HttpError(status, reason, { connection: "close" });
}
