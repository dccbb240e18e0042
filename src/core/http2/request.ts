/**
 * Request header validation (RFC 9113 §8.2–8.3): a decoded field list becomes an
 * {@link H2RequestHead}, or a reason the stream is malformed (a stream PROTOCOL_ERROR).
 */

import { isConnectionSpecific } from "../h2.ts";

/** One request's head as the codec hands it to the application. */
export interface H2RequestHead {
  /** `:method`, a token. */
  readonly method: string;
  /** `:path`: starts with `/`, or is `*` for OPTIONS; `""` for CONNECT. */
  readonly path: string;
  /** `:scheme`; `""` for CONNECT. */
  readonly scheme: string;
  /** `:authority`, or `""` when absent. */
  readonly authority: string;
  /** The regular fields in wire order, `[name, value, …]`: lower-case names, latin1 values. */
  readonly headers: readonly string[];
  /** The declared `content-length`, or -1 when there is none. */
  readonly contentLength: number;
}

// tchar (RFC 9110 §5.6.2), for :method.
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TOKEN[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** A content-length value: digits only, at most 15 of them (below 2^53). -1 when invalid. */
function parseLength(s: string): number {
  if (s.length === 0 || s.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Validates a request's decoded fields: pseudo-headers first, each of `:method`, `:scheme`,
 * `:path` exactly once (CONNECT: `:method` and `:authority` only), no other pseudo-header, no
 * connection-specific field (`te` only as `trailers`), one well-formed `content-length`.
 * Returns the head, or a string naming what is wrong.
 */
export function requestHead(fields: string[]): H2RequestHead | string {
  let method: string | null = null;
  let path: string | null = null;
  let scheme: string | null = null;
  let authority: string | null = null;
  let contentLength = -1;
  let first = fields.length;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) {
      if (first !== fields.length) return `pseudo-header ${name} after a regular field`;
      if (name === ":method") {
        if (method !== null) return "two :method";
        method = value;
      } else if (name === ":path") {
        if (path !== null) return "two :path";
        path = value;
      } else if (name === ":scheme") {
        if (scheme !== null) return "two :scheme";
        scheme = value;
      } else if (name === ":authority") {
        if (authority !== null) return "two :authority";
        authority = value;
      } else return `pseudo-header ${name} not allowed in a request`;
      continue;
    }
    if (first === fields.length) first = i;
    if (isConnectionSpecific(name) && !(name === "te" && value === "trailers")) return `connection-specific field ${name}`;
    if (name === "content-length") {
      if (contentLength !== -1) return "two content-length fields";
      contentLength = parseLength(value);
      if (contentLength === -1) return "invalid content-length";
    }
  }
  if (method === null) return "no :method";
  if (!isToken(method)) return "invalid :method";
  if (method === "CONNECT") {
    if (scheme !== null || path !== null) return "CONNECT with :scheme or :path";
    if (authority === null || authority === "") return "CONNECT without :authority";
    return { method, path: "", scheme: "", authority, headers: fields.slice(first), contentLength };
  }
  if (scheme === null || scheme === "") return "no :scheme";
  if (path === null || path === "") return "no :path";
  if (path.charCodeAt(0) !== 0x2f && !(path === "*" && method === "OPTIONS")) return "invalid :path";
  return { method, path, scheme, authority: authority ?? "", headers: first === 0 ? fields : fields.slice(first), contentLength };
}

/** Checks a trailer section: no pseudo-header, no connection-specific field. Returns null, or what is wrong. */
export function trailersProblem(fields: readonly string[]): string | null {
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) === 0x3a) return `pseudo-header ${name} in trailers`;
    if (isConnectionSpecific(name)) return `connection-specific field ${name} in trailers`;
  }
  return null;
}
