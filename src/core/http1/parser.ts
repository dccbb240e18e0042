/**
 * An incremental HTTP/1.1 request parser (RFC 9112) over byte chunks, at least as strict as
 * llhttp as Node 20 runs it (no lenient flags): every input llhttp refuses is refused here,
 * and where this parser is stricter the rule says why (test/http1-codec/ holds the proof, a
 * differential fuzz test against llhttp among it). Bytes may arrive split anywhere, several
 * pipelined requests may share a chunk; each request is reported to an {@link Http1Sink}:
 * its head, its body bytes as they arrive (chunked coding removed), then its end. A refusal
 * is thrown as an {@link Http1ParseError} carrying the status to answer; the parser is dead
 * after it.
 *
 * Hot path: a head is cut into lines with `indexOf(LF)` on the bytes, each line is checked
 * with one table load per byte and decoded to strings once per field; a line is copied only
 * when it straddles two chunks. Body bytes are handed on as views of the input, never copied.
 */

import { HEAD_PROBLEMS } from "../request-rules.ts";
import { equalsLower, FIELD_VALUE, fieldName, HEX, latin1, sameBytes, TARGET, TOKEN } from "./chars.ts";
import { Http1ParseError } from "./errors.ts";
import { checkExtensions, checkTarget, HTTP1_METHODS, hasTab, methodAt, refuse, refuseMethod } from "./syntax.ts";

export { HTTP1_METHODS };

/** Limits of the parser; each bounds memory a client can make the server hold. */
export interface Http1ParserOptions {
  /** Bytes of a request head, request line to the empty line, CRLFs included; also of a trailer section. 431 past it. */
  maxHeadBytes?: number;
  /** Header fields in a head (and fields in a trailer section). 431 past it. */
  maxHeaders?: number;
  /** Bytes of one chunk's extensions (`;name=value…`). 413 past it, as Node answers. */
  maxChunkExtensionBytes?: number;
}

/**
 * The defaults: 16 KiB heads, as Node's `--max-http-header-size` (Node counts only the target,
 * names and values, so the same figure here is a little stricter); 200 fields, where Bun.serve
 * answers 431 (measured); 16 KiB of extensions per chunk, as Node 20.
 */
export const HTTP1_DEFAULTS: Readonly<Required<Http1ParserOptions>> = Object.freeze({ maxHeadBytes: 16 * 1024, maxHeaders: 200, maxChunkExtensionBytes: 16 * 1024 });

/** How a request's body is delimited (RFC 9112 §6.3). */
export type Http1Framing = "none" | "length" | "chunked";

/** One request head, as the parser hands it to {@link Http1Sink.onHead}. */
export interface Http1RequestHead {
  /** One of {@link HTTP1_METHODS}. */
  readonly method: string;
  /** The request target as sent (visible ASCII). */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly versionMinor: 0 | 1;
  /** Header fields in arrival order, `[name, value, name, value, …]`: names as sent, values without surrounding whitespace, latin1. */
  readonly headers: readonly string[];
  /** The connection may carry another request after this one (RFC 9112 §9.3): HTTP/1.1 without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`. */
  readonly keepAlive: boolean;
  /** CONNECT, or `Upgrade` with a `Connection: upgrade` token: after this message the bytes are no longer HTTP/1.1; see {@link Http1Parser.execute}. */
  readonly upgrade: boolean;
  readonly framing: Http1Framing;
  /** The declared Content-Length, or null when there is none (chunked or no body). */
  readonly contentLength: number | null;
}

/** Where the parser reports what it read. Calls come in order: onHead, onBody*, onComplete, for each request. */
export interface Http1Sink {
  onHead(head: Http1RequestHead): void;
  /** Body bytes: a view of the chunk given to `execute`, valid only during this call (copy to keep). */
  onBody(bytes: Uint8Array): void;
  /** The request is complete; `trailers` are the fields of a chunked body's trailer section (`[name, value, …]`), or null. */
  onComplete(trailers: readonly string[] | null): void;
}

const START = 0; // before a request line (empty lines skipped)
const HEADERS = 1;
const BODY = 2; // Content-Length bytes
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_END = 5; // the CRLF after chunk data
const TRAILERS = 6;
const UPGRADED = 7;
const CLOSED = 8; // after a request that does not keep the connection

const LONGEST_METHOD = Math.max(...HTTP1_METHODS.map((m) => m.length));

/** How far a line's LF is looked for by a loop before `indexOf` takes over. */
const SHORT_LINE = 64;

/** The largest chunk size accepted: within exact integers (llhttp's limit is 2^64 - 1). */
const MAX_CHUNK_SIZE = Number.MAX_SAFE_INTEGER;

/** A parser for one connection. Create one per connection; it is not reusable after an error. */
export class Http1Parser {
  readonly #sink: Http1Sink;
  readonly #maxHead: number;
  readonly #maxHeaders: number;
  readonly #maxExt: number;
  #state = START;
  #error: Http1ParseError | null = null;
  #paused = false;
  /** A line that straddles chunks, copied until its LF arrives. */
  #line = new Uint8Array(256);
  #lineLen = 0;
  /** Bytes of the current head (or trailer section) so far. */
  #headBytes = 0;
  /** Body bytes still to come: of the Content-Length body, or of the current chunk. */
  #remaining = 0;
  #crlfSeen = 0;
  // The request being read.
  #method = "";
  #target = "";
  #minor: 0 | 1 = 1;
  #headers: string[] = [];
  #trailers: string[] | null = null;
  #contentLength = -1;
  #transferEncodings = 0;
  #chunked = false;
  #close = false;
  #keepAliveToken = false;
  #upgradeToken = false;
  #upgradeHeader = false;
  #upgrade = false;
  #keepAlive = true;
  /**
   * The values of the previous request on this connection, by position: a keep-alive client
   * repeats most of them (Host, User-Agent, Accept…), and comparing bytes with the old string
   * costs less than decoding a new one.
   */
  #lastValues: string[] = [];

  constructor(sink: Http1Sink, options: Http1ParserOptions = {}) {
    this.#sink = sink;
    this.#maxHead = options.maxHeadBytes ?? HTTP1_DEFAULTS.maxHeadBytes;
    this.#maxHeaders = options.maxHeaders ?? HTTP1_DEFAULTS.maxHeaders;
    this.#maxExt = options.maxChunkExtensionBytes ?? HTTP1_DEFAULTS.maxChunkExtensionBytes;
  }

  /** True after an upgrade request (CONNECT, or Upgrade + Connection: upgrade) completed: what follows is another protocol's. */
  get upgraded(): boolean {
    return this.#state === UPGRADED;
  }

  /** True between requests: nothing of a next request has arrived (an EOF here is a clean close). */
  get idle(): boolean {
    return this.#state === START && this.#lineLen === 0 && this.#headBytes === 0;
  }

  /** Stops the current {@link execute} after the callback that calls it (backpressure: the caller feeds the rest later). */
  pause(): void {
    this.#paused = true;
  }

  /**
   * Parses `chunk`, reporting to the sink. Returns the bytes consumed: all of them, unless a
   * callback paused the parser or an upgrade request completed; the caller then owns
   * `chunk.subarray(consumed)` (the first bytes of the new protocol, or bytes to feed again
   * later). Throws an {@link Http1ParseError} when the input breaks a rule.
   */
  execute(chunk: Uint8Array): number {
    if (this.#error !== null) throw this.#error;
    this.#paused = false;
    try {
      return this.#run(chunk);
    } catch (error) {
      if (error instanceof Http1ParseError) this.#error = error;
      throw error;
    }
  }

  /** The peer closed its side: throws if a request was cut short. */
  finish(): void {
    if (this.#error !== null) throw this.#error;
    if (!this.idle && this.#state !== UPGRADED && this.#state !== CLOSED) {
      this.#error = new Http1ParseError("HPE_INVALID_EOF_STATE", 400, "the connection ended inside a request");
      throw this.#error;
    }
  }

  #run(chunk: Uint8Array): number {
    const len = chunk.length;
    let pos = 0;
    while (pos < len && !this.#paused) {
      switch (this.#state) {
        case BODY:
        case CHUNK_DATA: {
          const n = Math.min(this.#remaining, len - pos);
          const bytes = chunk.subarray(pos, pos + n);
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) {
            if (this.#state === BODY) {
              this.#sink.onBody(bytes);
              this.#complete();
              break;
            }
            this.#state = CHUNK_END;
            this.#crlfSeen = 0;
          }
          this.#sink.onBody(bytes);
          break;
        }
        case CHUNK_END:
          if (chunk[pos] !== (this.#crlfSeen === 0 ? 13 : 10)) refuse("HPE_STRICT", "chunk data is not followed by CRLF");
          pos++;
          if (++this.#crlfSeen === 2) this.#state = CHUNK_SIZE;
          break;
        case UPGRADED:
          return pos;
        case CLOSED:
          // As llhttp: the request said the connection ends after it, so nothing may follow.
          return refuse("HPE_CLOSED_CONNECTION", "data after a request that closes the connection");
        default:
          pos = this.#lineStep(chunk, pos);
      }
    }
    return pos;
  }

  /** Consumes one line (through its LF) from `chunk` at `pos`, or buffers what there is of it. */
  #lineStep(chunk: Uint8Array, pos: number): number {
    // Most lines are short: a loop finds their LF sooner than a call to indexOf; longer ones get the call.
    const len = chunk.length;
    const near = Math.min(pos + SHORT_LINE, len);
    let lf = -1;
    for (let i = pos; i < near; i++) {
      if (chunk[i] === 10) {
        lf = i;
        break;
      }
    }
    if (lf === -1 && near < len) lf = chunk.indexOf(10, near);
    const end = lf === -1 ? chunk.length : lf + 1;
    this.#count(end - pos);
    if (lf === -1) {
      this.#append(chunk, pos, end);
      if (this.#state === START) this.#checkMethodSoFar();
      return end;
    }
    if (this.#lineLen === 0) {
      this.#onLine(chunk, pos, lf);
    } else {
      this.#append(chunk, pos, end);
      const n = this.#lineLen;
      this.#lineLen = 0;
      this.#onLine(this.#line, 0, n - 1);
    }
    return end;
  }

  /**
   * The start of a request line still waiting for its LF: refused as soon as its method cannot
   * be one (as llhttp does byte by byte), so bytes of another protocol (a TLS ClientHello, say)
   * are answered at once rather than at the head limit or a deadline. A leading CR is left to
   * the whole line (it may be an empty line's).
   */
  #checkMethodSoFar(): void {
    const line = this.#line;
    const n = this.#lineLen;
    if (line[0] === 13) return;
    // At most the longest method and its SP are looked at: a line trickled byte by byte costs O(1) per byte.
    const upTo = Math.min(n, LONGEST_METHOD + 1);
    let i = 0;
    while (i < upTo && TOKEN[line[i]!] === 1) i++;
    if (i < upTo ? line[i] !== 32 || methodAt(line, 0, i) === null : i > LONGEST_METHOD) refuseMethod(line, 0, i);
  }

  /** Counts `n` bytes of a line against the limit of the section it belongs to. */
  #count(n: number): void {
    this.#headBytes += n;
    if (this.#state === CHUNK_SIZE) {
      // A size line: at most 16 hex digits of size, the extensions, CRLF (bytes past that are refused in #chunkSize).
      if (this.#headBytes > this.#maxExt + 18 + 16) refuse("HPE_CHUNK_EXTENSIONS_OVERFLOW", "chunk extensions too large", 413);
    } else if (this.#headBytes > this.#maxHead) {
      refuse("HPE_HEADER_OVERFLOW", this.#state === TRAILERS ? "trailer section too large" : "request head too large", 431);
    }
  }

  #append(chunk: Uint8Array, from: number, to: number): void {
    const need = this.#lineLen + to - from;
    if (need > this.#line.length) {
      const grown = new Uint8Array(Math.max(need, this.#line.length * 2));
      grown.set(this.#line.subarray(0, this.#lineLen));
      this.#line = grown;
    }
    this.#line.set(chunk.subarray(from, to), this.#lineLen);
    this.#lineLen = need;
  }

  /** One line, `buf[start, lf)` with `buf[lf]` its LF. */
  #onLine(buf: Uint8Array, start: number, lf: number): void {
    // RFC 9112 §2.2 allows a recipient to take a bare LF as a line end; llhttp does not, nor this parser.
    if (lf === start || buf[lf - 1] !== 13) refuse("HPE_CR_EXPECTED", "a line ends in LF without CR");
    const end = lf - 1;
    switch (this.#state) {
      case START:
        // RFC 9112 §2.2: empty lines before a request line are ignored (they count toward the head limit).
        if (end > start) {
          this.#requestLine(buf, start, end);
          this.#state = HEADERS;
        }
        return;
      case HEADERS:
        if (end > start) this.#field(buf, start, end, false);
        else this.#headComplete();
        return;
      case CHUNK_SIZE:
        this.#headBytes = 0;
        this.#chunkSize(buf, start, end);
        return;
      default: // TRAILERS
        if (end > start) this.#field(buf, start, end, true);
        else this.#complete();
    }
  }

  /** `method SP request-target SP HTTP/1.x` (RFC 9112 §3): single spaces, nothing else. */
  #requestLine(buf: Uint8Array, start: number, end: number): void {
    if (buf[start] === 13) refuse("HPE_INVALID_METHOD", "a bare CR before a request line");
    let i = start;
    while (i < end && TOKEN[buf[i]!] === 1) i++;
    const method = i < end && buf[i] === 32 ? methodAt(buf, start, i) : null;
    if (method === null) refuseMethod(buf, start, i);
    const from = ++i;
    while (i < end && TARGET[buf[i]!] === 1) i++;
    if (i === from) refuse("HPE_INVALID_URL", "empty request target (or two spaces)");
    if (i === end) refuse("HPE_INVALID_CONSTANT", "a request line without an HTTP version");
    if (buf[i] !== 32) refuse("HPE_INVALID_URL", "a control character or non-ASCII byte in the request target");
    checkTarget(buf, from, i, method);
    const v = i + 1;
    if (end - v !== 8 || buf[v] !== 72 || buf[v + 1] !== 84 || buf[v + 2] !== 84 || buf[v + 3] !== 80 || buf[v + 4] !== 47 || buf[v + 6] !== 46) {
      refuse("HPE_INVALID_VERSION", "malformed HTTP version");
    }
    const major = buf[v + 5]! - 48;
    const minor = buf[v + 7]! - 48;
    if (major < 0 || major > 9 || minor < 0 || minor > 9) refuse("HPE_INVALID_VERSION", "malformed HTTP version");
    if (major !== 1 || minor > 1) refuse("HPE_INVALID_VERSION", HEAD_PROBLEMS.version, 505);
    this.#method = method;
    this.#target = sameBytes(this.#target, buf, from, i) ? this.#target : latin1(buf, from, i, false);
    this.#minor = minor as 0 | 1;
  }

  /** `field-name ":" OWS field-value OWS` (RFC 9112 §5): no space before the colon, no obs-fold. */
  #field(buf: Uint8Array, start: number, end: number, trailer: boolean): void {
    const list = trailer ? (this.#trailers ??= []) : this.#headers;
    if (list.length >= this.#maxHeaders * 2) refuse("HPE_HEADER_OVERFLOW", trailer ? "too many trailer fields" : "too many header fields", 431);
    let i = start;
    while (i < end && TOKEN[buf[i]!] === 1) i++;
    if (i === start) refuse("HPE_INVALID_HEADER_TOKEN", buf[i] === 32 || buf[i] === 9 ? "obs-fold or a line starting with whitespace" : "a field name is not a token");
    if (i === end || buf[i] !== 58) refuse("HPE_INVALID_HEADER_TOKEN", buf[i] === 32 || buf[i] === 9 ? "whitespace before a colon" : "a field name is not a token");
    const nameEnd = i++;
    while (i < end && (buf[i] === 32 || buf[i] === 9)) i++;
    let valueEnd = end;
    while (valueEnd > i && (buf[valueEnd - 1] === 32 || buf[valueEnd - 1] === 9)) valueEnd--;
    let seen = 0;
    for (let j = i; j < valueEnd; j++) {
      const c = buf[j]!;
      if (FIELD_VALUE[c] === 0) refuse("HPE_INVALID_HEADER_TOKEN", HEAD_PROBLEMS.controlChar);
      seen |= c;
    }
    const nameLength = nameEnd - start;
    if (nameLength === 14 && equalsLower(buf, start, nameEnd, "content-length")) {
      if (trailer) refuse("HPE_INVALID_CONTENT_LENGTH", "Content-Length in a trailer section");
      // llhttp takes spaces after the digits but not a tab.
      if (hasTab(buf, valueEnd, end)) refuse("HPE_INVALID_CONTENT_LENGTH", "Content-Length is not a decimal number");
      this.#setContentLength(buf, i, valueEnd);
    } else if (nameLength === 17 && equalsLower(buf, start, nameEnd, "transfer-encoding")) {
      if (trailer) refuse("HPE_INVALID_TRANSFER_ENCODING", "Transfer-Encoding in a trailer section");
      // llhttp ignores an empty Transfer-Encoding line (and then frames by Content-Length); a sender meant something.
      if (i === valueEnd) refuse("HPE_INVALID_TRANSFER_ENCODING", "empty Transfer-Encoding");
      this.#transferEncodings++;
      // A tab after `chunked` makes it another coding to llhttp.
      this.#chunked = equalsLower(buf, i, valueEnd, "chunked") && !hasTab(buf, valueEnd, end);
    } else if (nameLength === 10 && equalsLower(buf, start, nameEnd, "connection")) {
      // llhttp reads Connection in a trailer section too (a `close` there ends the connection after the body).
      if (trailer) refuse("HPE_INVALID_HEADER_TOKEN", "a connection-management field in a trailer section");
      this.#connectionTokens(buf, i, end);
    } else if (nameLength === 7 && equalsLower(buf, start, nameEnd, "upgrade")) {
      if (trailer) refuse("HPE_INVALID_HEADER_TOKEN", "a connection-management field in a trailer section");
      if (valueEnd > i) this.#upgradeHeader = true;
    }
    if (trailer) {
      list.push(fieldName(buf, start, nameEnd), latin1(buf, i, valueEnd, seen >= 0x80));
      return;
    }
    const k = list.length >> 1;
    const last = this.#lastValues[k];
    const value = last !== undefined && sameBytes(last, buf, i, valueEnd) ? last : latin1(buf, i, valueEnd, seen >= 0x80);
    if (k < 64) this.#lastValues[k] = value;
    list.push(fieldName(buf, start, nameEnd), value);
  }

  /** `Content-Length: 1*DIGIT`, once (llhttp refuses a second line even with the same value). */
  #setContentLength(buf: Uint8Array, from: number, to: number): void {
    if (this.#contentLength !== -1) refuse("HPE_UNEXPECTED_CONTENT_LENGTH", "more than one Content-Length");
    if (from === to) refuse("HPE_INVALID_CONTENT_LENGTH", "empty Content-Length");
    let n = 0;
    for (let i = from; i < to; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) refuse("HPE_INVALID_CONTENT_LENGTH", "Content-Length is not a decimal number");
      n = n * 10 + d;
    }
    if (n > Number.MAX_SAFE_INTEGER) refuse("HPE_INVALID_CONTENT_LENGTH", "Content-Length too large");
    this.#contentLength = n;
  }

  /**
   * The `close`, `keep-alive` and `upgrade` options of a Connection list (RFC 9110 §7.6.1), any
   * case. `buf[from, to)` is the value up to the line end; as llhttp, whitespace before an
   * option is skipped, and after it only spaces (`upgrade<TAB>` is not the upgrade option).
   */
  #connectionTokens(buf: Uint8Array, from: number, to: number): void {
    let i = from;
    while (i < to) {
      let e = i;
      while (e < to && buf[e] !== 44) e++;
      let s = i;
      let t = e;
      while (s < t && (buf[s] === 32 || buf[s] === 9)) s++;
      while (t > s && buf[t - 1] === 32) t--;
      if (equalsLower(buf, s, t, "close")) this.#close = true;
      else if (equalsLower(buf, s, t, "keep-alive")) this.#keepAliveToken = true;
      else if (equalsLower(buf, s, t, "upgrade")) this.#upgradeToken = true;
      i = e + 1;
    }
  }

  /** The empty line: decide the framing (RFC 9112 §6.3) and hand the head on. */
  #headComplete(): void {
    const te = this.#transferEncodings;
    const cl = this.#contentLength;
    if (te > 0) {
      // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing (llhttp decodes it as chunked).
      if (this.#minor === 0) refuse("HPE_INVALID_TRANSFER_ENCODING", "Transfer-Encoding in an HTTP/1.0 request");
      if (cl !== -1) refuse("HPE_UNEXPECTED_CONTENT_LENGTH", "Content-Length with Transfer-Encoding");
      // tako decodes chunked alone (see isChunkedOnly); llhttp also takes `gzip, chunked` and leaves the gzip to the application.
      if (te > 1 || !this.#chunked) refuse("HPE_INVALID_TRANSFER_ENCODING", HEAD_PROBLEMS.transferEncoding);
    }
    const connect = this.#method === "CONNECT";
    // RFC 9110 §9.3.6: a CONNECT request has no content; llhttp ignores a declared one, which leaves its bytes to the tunnel.
    if (connect && (te > 0 || cl > 0)) refuse("HPE_UNEXPECTED_CONTENT_LENGTH", "a CONNECT request with content");
    this.#upgrade = connect || (this.#upgradeHeader && this.#upgradeToken);
    // llhttp keeps an HTTP/1.0 connection that says both `close` and `keep-alive`; close wins here.
    this.#keepAlive = !this.#close && (this.#minor === 1 || this.#keepAliveToken);
    const head: Http1RequestHead = {
      method: this.#method,
      target: this.#target,
      versionMinor: this.#minor,
      headers: this.#headers,
      keepAlive: this.#keepAlive,
      upgrade: this.#upgrade,
      framing: te > 0 ? "chunked" : cl > 0 ? "length" : "none",
      contentLength: cl === -1 ? null : cl,
    };
    this.#headBytes = 0;
    this.#sink.onHead(head);
    if (te > 0) this.#state = CHUNK_SIZE;
    else if (cl > 0) {
      this.#remaining = cl;
      this.#state = BODY;
    } else this.#complete();
  }

  /** `chunk-size [ chunk-ext ] CRLF` (RFC 9112 §7.1): hex digits, then `;name[=value]` with no whitespace, as llhttp in strict mode. */
  #chunkSize(buf: Uint8Array, start: number, end: number): void {
    let i = start;
    let size = 0;
    for (; i < end; i++) {
      const h = HEX[buf[i]!]!;
      if (h < 0) break;
      if (size > (MAX_CHUNK_SIZE - h) / 16) refuse("HPE_INVALID_CHUNK_SIZE", "chunk size too large");
      size = size * 16 + h;
    }
    if (i === start || (i < end && buf[i] !== 59)) refuse("HPE_INVALID_CHUNK_SIZE", "malformed chunk size");
    if (end - i > this.#maxExt) refuse("HPE_CHUNK_EXTENSIONS_OVERFLOW", "chunk extensions too large", 413);
    if (i < end) checkExtensions(buf, i, end);
    if (size === 0) {
      this.#state = TRAILERS;
    } else {
      this.#remaining = size;
      this.#state = CHUNK_DATA;
    }
  }

  #complete(): void {
    const trailers = this.#trailers;
    const upgrade = this.#upgrade;
    this.#state = upgrade ? UPGRADED : this.#keepAlive ? START : CLOSED;
    this.#headBytes = 0;
    this.#headers = [];
    this.#trailers = null;
    this.#contentLength = -1;
    this.#transferEncodings = 0;
    this.#chunked = this.#close = this.#keepAliveToken = this.#upgradeToken = this.#upgradeHeader = this.#upgrade = false;
    this.#sink.onComplete(trailers);
    if (upgrade) this.#paused = true;
  }
}
