// A raw HTTP/2 frame client for tests that attack and probe h2c servers (cleartext, prior
// knowledge) over real loopback sockets: hand-built frames go out exactly as written, and every
// frame that comes back is parsed, counted and (for headers) HPACK-decoded.
//
// Encoders never validate their arguments beyond what is needed to produce bytes, so tests can
// send deliberately malformed frames (wrong PING length, zero WINDOW_UPDATE, reserved bits...).
// Header names and values are treated as latin1 strings: one character is one octet, on the way
// out (encodeHeaders) and on the way in (HpackDecoder), so any octet sequence round-trips.
import { connect as netConnect, type Socket } from "node:net";

// ---------------------------------------------------------------------------------------------
// Constants (RFC 9113)
// ---------------------------------------------------------------------------------------------

/** The 24-octet client connection preface (RFC 9113 §3.4). */
export const PREFACE: Buffer = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Frame type codes (RFC 9113 §6). */
export const FrameType = Object.freeze({
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
});

/** Frame flags (RFC 9113 §6). ACK and END_STREAM share the bit 0x1 (on different frame types). */
export const Flag = Object.freeze({
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
});

/** Error codes for RST_STREAM and GOAWAY (RFC 9113 §7). */
export const ErrorCode = Object.freeze({
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
});

/** SETTINGS parameter identifiers (RFC 9113 §6.5.2). */
export const Setting = Object.freeze({
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
});

function reverse(table: Readonly<Record<string, number>>): Map<number, string> {
  const out = new Map<number, string>();
  for (const [name, code] of Object.entries(table)) if (!out.has(code)) out.set(code, name);
  return out;
}
const ERROR_NAMES = reverse(ErrorCode);
const FRAME_NAMES = reverse(FrameType);

/** The RFC name of an error code ("CANCEL"), or "UNKNOWN_ERROR(0x…)" for codes outside RFC 9113. */
export function errorName(code: number): string {
  return ERROR_NAMES.get(code) ?? `UNKNOWN_ERROR(0x${code.toString(16)})`;
}

/** The RFC name of a frame type ("HEADERS"), or "UNKNOWN(0x…)" for extension types. */
export function frameTypeName(type: number): string {
  return FRAME_NAMES.get(type) ?? `UNKNOWN(0x${type.toString(16)})`;
}

// ---------------------------------------------------------------------------------------------
// Frame encoders
// ---------------------------------------------------------------------------------------------

const EMPTY = Buffer.alloc(0);

/** Turns a string (latin1, one char per octet) or bytes into a Buffer without copying bytes. */
function bytes(data: Buffer | Uint8Array | string): Buffer {
  if (typeof data === "string") return Buffer.from(data, "latin1");
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The 9-octet frame header alone. `length` is written as given (it may lie about the payload),
 * and `streamId` is written as a raw 32-bit value, so a test can set the reserved bit.
 */
export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(length & 0xffffff, 0, 3);
  h[3] = type & 0xff;
  h[4] = flags & 0xff;
  h.writeUInt32BE(streamId >>> 0, 5);
  return h;
}

/** A complete frame: header (with the payload's real length) followed by the payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer | Uint8Array | string = EMPTY): Buffer {
  const body = bytes(payload);
  if (body.length > 0xffffff) throw new RangeError(`frame payload of ${body.length} octets exceeds 2^24-1`);
  return Buffer.concat([frameHeader(body.length, type, flags, streamId), body]);
}

/** A SETTINGS frame (stream 0) carrying `[identifier, value]` pairs in order. */
export function settings(entries: [number, number][] = []): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id & 0xffff, i * 6);
    payload.writeUInt32BE(value >>> 0, i * 6 + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

/** An empty SETTINGS frame with the ACK flag. */
export function settingsAck(): Buffer {
  return frame(FrameType.SETTINGS, Flag.ACK, 0, EMPTY);
}

/** A PING frame (stream 0). The payload should be 8 octets; it is not checked. */
export function ping(payload8: Buffer | Uint8Array = Buffer.alloc(8), ack = false): Buffer {
  return frame(FrameType.PING, ack ? Flag.ACK : 0, 0, payload8);
}

/** An RST_STREAM frame with the given error code. */
export function rstStream(id: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code >>> 0, 0);
  return frame(FrameType.RST_STREAM, 0, id, payload);
}

/** A GOAWAY frame (stream 0): last stream id, error code and optional UTF-8 debug data. */
export function goaway(lastId: number, code: number, debug: string | Buffer = ""): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(lastId >>> 0, 0);
  head.writeUInt32BE(code >>> 0, 4);
  return frame(FrameType.GOAWAY, 0, 0, Buffer.concat([head, typeof debug === "string" ? Buffer.from(debug, "utf8") : debug]));
}

/** A WINDOW_UPDATE frame (stream 0 = connection window). An increment of 0 is allowed (it is a protocol error). */
export function windowUpdate(id: number, increment: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(increment >>> 0, 0);
  return frame(FrameType.WINDOW_UPDATE, 0, id, payload);
}

/** A DATA frame; strings are sent as latin1 (one char per octet). */
export function data(id: number, payload: Buffer | Uint8Array | string, endStream = false): Buffer {
  return frame(FrameType.DATA, endStream ? Flag.END_STREAM : 0, id, payload);
}

/** Options of {@link headers}. */
export interface HeadersFrameOptions {
  /** Set END_STREAM (default false). */
  endStream?: boolean;
  /** Set END_HEADERS (default true); false means CONTINUATION frames must follow. */
  endHeaders?: boolean;
  /** Add the PADDED flag with this many zero octets of padding. */
  padLength?: number;
  /** Add the PRIORITY flag with these fields (weight is the wire value 0–255, i.e. weight-1). */
  priority?: { dependency: number; weight: number; exclusive?: boolean };
}

/** A HEADERS frame carrying a (fragment of an) HPACK header block. */
export function headers(id: number, block: Buffer, opts: HeadersFrameOptions = {}): Buffer {
  let flags = 0;
  if (opts.endStream ?? false) flags |= Flag.END_STREAM;
  if (opts.endHeaders ?? true) flags |= Flag.END_HEADERS;
  const parts: Buffer[] = [];
  if (opts.padLength !== undefined) {
    flags |= Flag.PADDED;
    parts.push(Buffer.from([opts.padLength & 0xff]));
  }
  if (opts.priority !== undefined) {
    flags |= Flag.PRIORITY;
    const p = Buffer.alloc(5);
    p.writeUInt32BE(((opts.priority.exclusive ?? false) ? 0x80000000 : 0) + (opts.priority.dependency & 0x7fffffff), 0);
    p[4] = opts.priority.weight & 0xff;
    parts.push(p);
  }
  parts.push(block);
  if (opts.padLength !== undefined) parts.push(Buffer.alloc(opts.padLength));
  return frame(FrameType.HEADERS, flags, id, Buffer.concat(parts));
}

/** A CONTINUATION frame carrying the next fragment of a header block. */
export function continuation(id: number, block: Buffer, endHeaders: boolean): Buffer {
  return frame(FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, id, block);
}

// ---------------------------------------------------------------------------------------------
// HPACK encoding (RFC 7541) — deliberately simple: literals without indexing, no Huffman
// ---------------------------------------------------------------------------------------------

/**
 * An HPACK integer (RFC 7541 §5.1) with an N-bit prefix. `firstByteFlags` supplies the bits
 * above the prefix (e.g. 0x80 for an indexed field); its prefix bits are ignored.
 */
export function hpackInteger(value: number, prefixBits: number, firstByteFlags = 0): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`HPACK integer must be a non-negative safe integer, got ${value}`);
  const max = (1 << prefixBits) - 1;
  const high = firstByteFlags & ~max & 0xff;
  if (value < max) return Buffer.from([high | value]);
  const out = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** An HPACK string literal (RFC 7541 §5.2): raw octets, or Huffman-coded when `huffman` is true. */
export function hpackString(value: string | Buffer, huffman = false): Buffer {
  const raw = bytes(value);
  const body = huffman ? huffmanEncode(raw) : raw;
  return Buffer.concat([hpackInteger(body.length, 7, huffman ? 0x80 : 0), body]);
}

/** An indexed header field representation (RFC 7541 §6.1); index 0 is invalid and not refused here. */
export function hpackIndexed(index: number): Buffer {
  return hpackInteger(index, 7, 0x80);
}

/** How a literal header field asks the decoder to treat its dynamic table (RFC 7541 §6.2). */
export type HpackLiteralKind = "incremental" | "without" | "never";

/**
 * A literal header field with a new name (`name` is a string) or an indexed name (`name` is a
 * table index). "incremental" adds the field to the peer's dynamic table.
 */
export function hpackLiteral(name: string | number, value: string, kind: HpackLiteralKind = "without", huffman = false): Buffer {
  const [prefix, flags] = kind === "incremental" ? [6, 0x40] : kind === "never" ? [4, 0x10] : [4, 0x00];
  if (typeof name === "number") return Buffer.concat([hpackInteger(name, prefix, flags), hpackString(value, huffman)]);
  return Buffer.concat([hpackInteger(0, prefix, flags), hpackString(name, huffman), hpackString(value, huffman)]);
}

/** A dynamic table size update (RFC 7541 §6.3). */
export function hpackTableSizeUpdate(size: number): Buffer {
  return hpackInteger(size, 5, 0x20);
}

/**
 * Encodes a header list using only "literal header field without indexing — new name" with raw
 * (non-Huffman) strings: stateless, so blocks can be sent in any order or on any connection.
 */
export function encodeHeaders(list: [string, string][]): Buffer {
  return Buffer.concat(list.map(([name, value]) => hpackLiteral(name, value, "without", false)));
}

/** Options of {@link request}. */
export interface RequestOptions {
  method?: string;
  path?: string;
  authority?: string;
  scheme?: string;
  /** Regular headers, sent after the pseudo-headers in this order. */
  headers?: [string, string][];
  /** Set END_STREAM on the HEADERS frame (default true: a request without body). */
  endStream?: boolean;
}

/** A complete request HEADERS frame (END_HEADERS set) for stream `id`. */
export function request(id: number, opts: RequestOptions = {}): Buffer {
  const list: [string, string][] = [
    [":method", opts.method ?? "GET"],
    [":scheme", opts.scheme ?? "http"],
    [":authority", opts.authority ?? "127.0.0.1"],
    [":path", opts.path ?? "/"],
    ...(opts.headers ?? []),
  ];
  return headers(id, encodeHeaders(list), { endStream: opts.endStream ?? true, endHeaders: true });
}

// ---------------------------------------------------------------------------------------------
// Frame payload decoders
// ---------------------------------------------------------------------------------------------

/** One received frame. `payload` is the raw payload (padding and priority fields included). */
export interface Frame {
  type: number;
  flags: number;
  /** Stream identifier with the reserved bit cleared. */
  streamId: number;
  /** Payload length from the frame header (equals payload.length). */
  length: number;
  payload: Buffer;
}

/** A parsed GOAWAY payload. */
export interface GoawayInfo {
  lastStreamId: number;
  errorCode: number;
  /** Additional debug data, decoded as UTF-8. */
  debug: string;
}

/** Parses a SETTINGS payload into identifier → value (a later duplicate wins, as in RFC 9113). */
export function parseSettings(payload: Buffer): Map<number, number> {
  if (payload.length % 6 !== 0) throw new RangeError(`SETTINGS payload length ${payload.length} is not a multiple of 6`);
  const out = new Map<number, number>();
  for (let i = 0; i + 6 <= payload.length; i += 6) out.set(payload.readUInt16BE(i), payload.readUInt32BE(i + 2));
  return out;
}

/** Parses a GOAWAY payload. */
export function parseGoaway(payload: Buffer): GoawayInfo {
  if (payload.length < 8) throw new RangeError(`GOAWAY payload of ${payload.length} octets is shorter than 8`);
  return {
    lastStreamId: payload.readUInt32BE(0) & 0x7fffffff,
    errorCode: payload.readUInt32BE(4),
    debug: payload.subarray(8).toString("utf8"),
  };
}

/** Parses an RST_STREAM payload into its error code. */
export function parseRstStream(payload: Buffer): number {
  if (payload.length !== 4) throw new RangeError(`RST_STREAM payload of ${payload.length} octets, expected 4`);
  return payload.readUInt32BE(0);
}

/** Strips the Pad Length octet and padding of a PADDED frame payload. */
function unpad(f: Frame): Buffer {
  if ((f.flags & Flag.PADDED) === 0) return f.payload;
  const pad = f.payload[0];
  if (pad === undefined || pad + 1 > f.payload.length) throw new RangeError(`${frameTypeName(f.type)} padding ${pad ?? "?"} exceeds payload of ${f.payload.length}`);
  return f.payload.subarray(1, f.payload.length - pad);
}

// ---------------------------------------------------------------------------------------------
// Huffman code (RFC 7541 Appendix B)
// ---------------------------------------------------------------------------------------------

// Code lengths in bits of symbols 0–255 and EOS (256), transcribed from RFC 7541 Appendix B.
// The code is canonical (codes of one length are consecutive in symbol order, shorter lengths
// first), so the codes themselves follow from the lengths; buildHuffman() checks completeness.
// prettier-ignore
const HUFFMAN_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //   0–15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //  16–31
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,         //  32–47   ' ' … '/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,              //  48–63   '0' … '?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,                //  64–79   '@' … 'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,             //  80–95   'P' … '_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,                //  96–111  '`' … 'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,            // 112–127  'p' … DEL
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128–143
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144–159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160–175
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176–191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192–207
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208–223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224–239
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240–255
  30,                                                             // EOS
];

const EOS = 256;

interface HuffmanTables {
  /** Code of each symbol, right-aligned. */
  codes: Uint32Array;
  lengths: Uint8Array;
  /** Decoding tree: children[node * 2 + bit] is the child node, or -1. */
  children: Int32Array;
  /** Symbol at a leaf node, or -1 for inner nodes. */
  symbols: Int16Array;
}

let huffmanTables: HuffmanTables | undefined;

function buildHuffman(): HuffmanTables {
  if (huffmanTables) return huffmanTables;
  const lengths = Uint8Array.from(HUFFMAN_LENGTHS);
  if (lengths.length !== 257) throw new Error(`Huffman table has ${lengths.length} entries, expected 257`);
  const codes = new Uint32Array(257);
  let code = 0;
  for (let len = 1; len <= 30; len++) {
    for (let sym = 0; sym <= EOS; sym++) {
      if (lengths[sym] === len) codes[sym] = code++;
    }
    if (len < 30) code *= 2;
  }
  // A complete prefix code of maximal length 30 uses exactly all 2^30 codes.
  if (code !== 2 ** 30) throw new Error("Huffman code lengths do not form a complete prefix code");

  const children = new Int32Array(513 * 2).fill(-1);
  const symbols = new Int16Array(513).fill(-1);
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const len = lengths[sym] ?? 0;
    const c = codes[sym] ?? 0;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = (c >>> i) & 1;
      let next = children[node * 2 + bit] ?? -1;
      if (next < 0) {
        next = nodes++;
        children[node * 2 + bit] = next;
      }
      node = next;
    }
    symbols[node] = sym;
  }
  huffmanTables = { codes, lengths, children, symbols };
  return huffmanTables;
}

/** The Huffman code of a symbol (0–255, or 256 for EOS) as `{ code, bits }`, code right-aligned. */
export function huffmanCode(symbol: number): { code: number; bits: number } {
  const t = buildHuffman();
  const bits = t.lengths[symbol];
  const code = t.codes[symbol];
  if (bits === undefined || code === undefined) throw new RangeError(`no Huffman symbol ${symbol}`);
  return { code, bits };
}

/** Huffman-encodes octets (RFC 7541 §5.2), padding the last octet with the most significant bits of EOS. */
export function huffmanEncode(input: Buffer | string): Buffer {
  const t = buildHuffman();
  const src = bytes(input);
  const out: number[] = [];
  let acc = 0; // never more than 7 + 30 bits: exact in a double
  let nbits = 0;
  for (const octet of src) {
    const len = t.lengths[octet] ?? 0;
    acc = acc * 2 ** len + (t.codes[octet] ?? 0);
    nbits += len;
    while (nbits >= 8) {
      const shift = 2 ** (nbits - 8);
      out.push(Math.floor(acc / shift) & 0xff);
      acc %= shift;
      nbits -= 8;
    }
  }
  if (nbits > 0) out.push(((acc << (8 - nbits)) | ((1 << (8 - nbits)) - 1)) & 0xff);
  return Buffer.from(out);
}

/** Decodes a Huffman-coded string; throws HpackError on EOS, bad padding or a truncated code. */
export function huffmanDecode(input: Buffer): Buffer {
  const t = buildHuffman();
  const out = Buffer.alloc(Math.ceil((input.length * 8) / 5));
  let n = 0;
  let node = 0;
  let depth = 0;
  let allOnes = true;
  for (const octet of input) {
    for (let i = 7; i >= 0; i--) {
      const bit = (octet >> i) & 1;
      node = t.children[node * 2 + bit] ?? -1;
      if (node < 0) throw new HpackError("invalid Huffman code");
      depth++;
      if (bit === 0) allOnes = false;
      const sym = t.symbols[node] ?? -1;
      if (sym >= 0) {
        if (sym === EOS) throw new HpackError("Huffman-coded string contains EOS");
        out[n++] = sym;
        node = 0;
        depth = 0;
        allOnes = true;
      }
    }
  }
  if (depth > 7) throw new HpackError(`Huffman padding of ${depth} bits is longer than 7`);
  if (!allOnes) throw new HpackError("Huffman padding is not a prefix of EOS");
  return out.subarray(0, n);
}

// ---------------------------------------------------------------------------------------------
// HPACK decoding (RFC 7541)
// ---------------------------------------------------------------------------------------------

/** A decoding error (HTTP/2 would answer with COMPRESSION_ERROR). */
export class HpackError extends Error {
  override name = "HpackError";
}

/** The static table (RFC 7541 Appendix A); entry i is index i + 1. */
export const HPACK_STATIC_TABLE: readonly (readonly [string, string])[] = Object.freeze([
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
] as const);

/** Counts of the representations an {@link HpackDecoder} has seen (to assert what a peer's encoder does). */
export interface HpackStats {
  /** Indexed fields referring to the static table. */
  indexedStatic: number;
  /** Indexed fields referring to the dynamic table. */
  indexedDynamic: number;
  /** Literals with incremental indexing (added to the dynamic table). */
  incremental: number;
  withoutIndexing: number;
  neverIndexed: number;
  sizeUpdates: number;
  /** Huffman-coded string literals (names and values). */
  huffmanStrings: number;
  rawStrings: number;
  /** Dynamic table entries evicted. */
  evictions: number;
}

/**
 * An HPACK decoder with its dynamic table: one per connection and direction, fed every header
 * block in the order received. Throws {@link HpackError} on malformed input.
 */
export class HpackDecoder {
  /** Newest entry first (dynamic index 62 is entry 0). */
  #table: [string, string][] = [];
  #size = 0;
  #maxSize: number;
  #limit: number;
  /** Representation counters, cumulative over all decoded blocks. */
  readonly stats: HpackStats = {
    indexedStatic: 0,
    indexedDynamic: 0,
    incremental: 0,
    withoutIndexing: 0,
    neverIndexed: 0,
    sizeUpdates: 0,
    huffmanStrings: 0,
    rawStrings: 0,
    evictions: 0,
  };

  /** `settingsTableSize` is the SETTINGS_HEADER_TABLE_SIZE this endpoint advertised (default 4096). */
  constructor(settingsTableSize = 4096) {
    this.#maxSize = settingsTableSize;
    this.#limit = settingsTableSize;
  }

  /** Current size of the dynamic table in octets (RFC 7541 §4.1: name + value + 32 per entry). */
  get tableSize(): number {
    return this.#size;
  }

  /** Current maximum size of the dynamic table (changed by size updates). */
  get maxTableSize(): number {
    return this.#maxSize;
  }

  /** A copy of the dynamic table, newest entry first. */
  get dynamicTable(): [string, string][] {
    return this.#table.map(([n, v]): [string, string] => [n, v]);
  }

  /**
   * Changes the upper bound for size updates, for when a test advertises a different
   * SETTINGS_HEADER_TABLE_SIZE. (The peer must then send a size update; that is not enforced.)
   */
  setSettingsTableSize(size: number): void {
    this.#limit = size;
  }

  /** Decodes one complete header block (HEADERS/PUSH_PROMISE plus CONTINUATION fragments). */
  decode(block: Buffer): [string, string][] {
    const out: [string, string][] = [];
    let pos = 0;

    const integer = (prefixBits: number): number => {
      const first = block[pos++];
      if (first === undefined) throw new HpackError("header block ends inside an integer");
      const max = (1 << prefixBits) - 1;
      let value = first & max;
      if (value < max) return value;
      let factor = 1;
      for (let octets = 1; ; octets++) {
        const b = block[pos++];
        if (b === undefined) throw new HpackError("header block ends inside an integer");
        if (octets > 5) throw new HpackError("HPACK integer longer than 5 continuation octets");
        value += (b & 0x7f) * factor;
        factor *= 128;
        if (value > 0xffffffff) throw new HpackError("HPACK integer exceeds 2^32-1");
        if ((b & 0x80) === 0) return value;
      }
    };

    const string = (): string => {
      const first = block[pos];
      if (first === undefined) throw new HpackError("header block ends before a string literal");
      const huffman = (first & 0x80) !== 0;
      const len = integer(7);
      if (pos + len > block.length) throw new HpackError(`string literal of ${len} octets overruns the header block`);
      const raw = block.subarray(pos, pos + len);
      pos += len;
      if (huffman) this.stats.huffmanStrings++;
      else this.stats.rawStrings++;
      return (huffman ? huffmanDecode(raw) : raw).toString("latin1");
    };

    const lookup = (index: number): [string, string] => {
      if (index === 0) throw new HpackError("index 0 is invalid");
      const s = HPACK_STATIC_TABLE[index - 1];
      if (s) return [s[0], s[1]];
      const d = this.#table[index - HPACK_STATIC_TABLE.length - 1];
      if (!d) throw new HpackError(`index ${index} is beyond the tables (dynamic has ${this.#table.length})`);
      return [d[0], d[1]];
    };

    while (pos < block.length) {
      const b = block[pos] ?? 0;
      if (b & 0x80) {
        const index = integer(7);
        if (index > HPACK_STATIC_TABLE.length) this.stats.indexedDynamic++;
        else this.stats.indexedStatic++;
        out.push(lookup(index));
      } else if ((b & 0xc0) === 0x40) {
        const index = integer(6);
        const name = index === 0 ? string() : lookup(index)[0];
        const value = string();
        this.stats.incremental++;
        this.#add(name, value);
        out.push([name, value]);
      } else if ((b & 0xe0) === 0x20) {
        if (out.length > 0) throw new HpackError("dynamic table size update after a header field");
        const size = integer(5);
        if (size > this.#limit) throw new HpackError(`table size update to ${size} exceeds the advertised ${this.#limit}`);
        this.stats.sizeUpdates++;
        this.#maxSize = size;
        this.#evict(0);
      } else {
        const never = (b & 0xf0) === 0x10;
        const index = integer(4);
        const name = index === 0 ? string() : lookup(index)[0];
        const value = string();
        if (never) this.stats.neverIndexed++;
        else this.stats.withoutIndexing++;
        out.push([name, value]);
      }
    }
    return out;
  }

  #add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.#evict(size);
    // An entry larger than the whole table empties it and is not added (RFC 7541 §4.4).
    if (size > this.#maxSize) return;
    this.#table.unshift([name, value]);
    this.#size += size;
  }

  /** Evicts oldest entries until `incoming` more octets fit. */
  #evict(incoming: number): void {
    while (this.#table.length > 0 && this.#size + incoming > this.#maxSize) {
      const old = this.#table.pop();
      if (old) this.#size -= old[0].length + old[1].length + 32;
      this.stats.evictions++;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The connection
// ---------------------------------------------------------------------------------------------

/** Options of {@link H2RawConn.connect}. */
export interface H2RawConnectOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Write PREFACE and an empty SETTINGS right after connecting (default true). */
  sendPreface?: boolean;
  /** Answer each non-ACK SETTINGS with a SETTINGS ACK (default true). */
  autoAckSettings?: boolean;
  /** Answer each non-ACK PING with a PING ACK carrying the same payload (default true). */
  autoAckPing?: boolean;
  /** Connect timeout in ms (default 5000). */
  timeoutMs?: number;
  /** Keep every received frame in `frames` (default true); false for floods (counters are kept). */
  keepFrames?: boolean;
}

/** A complete response as returned by {@link H2RawConn.response}. */
export interface H2Response {
  /** Value of :status (0 if the header block had none). */
  status: number;
  /** The response header block (final, non-1xx), pseudo-headers included, in wire order. */
  headers: [string, string][];
  body: Buffer;
}

type Waiter = (frame: Frame | undefined, index: number) => void;

interface PendingBlock {
  streamId: number;
  kind: "headers" | "push";
  endStream: boolean;
  promisedId: number;
  chunks: Buffer[];
}

/**
 * One raw HTTP/2 client connection. Frames are written exactly as given; received frames are
 * parsed and recorded. Flow control is manual: nothing is sent for received DATA unless the test
 * calls {@link H2RawConn.ackData} (so it can play a peer that never reads).
 */
export class H2RawConn {
  /** The TCP socket (e.g. `socket.pause()` to stop reading entirely). */
  readonly socket: Socket;
  /** Every frame received, in order (empty when connected with `keepFrames: false`). */
  readonly frames: Frame[] = [];
  /** Number of frames received; also the index the next received frame will get. */
  frameCount = 0;
  /** Frames received per type. */
  readonly typeCounts = new Map<number, number>();
  /** Octets received on the socket. */
  bytesReceived = 0;
  /** Flow-controlled octets received (sum of DATA frame lengths, padding included). */
  dataBytesReceived = 0;
  /** Parameters of the first non-ACK SETTINGS frame received; undefined until then. */
  serverSettings: Map<number, number> | undefined;
  /** SETTINGS frames received with the ACK flag. */
  settingsAcks = 0;
  /** GOAWAY frames received, parsed, in order. */
  readonly goaways: GoawayInfo[] = [];
  /** Stream id → error code of the RST_STREAM received for it (the last one wins). */
  readonly resets = new Map<number, number>();
  /** Stream id → the final (non-1xx) response header block. */
  readonly responseHeaders = new Map<number, [string, string][]>();
  /** Stream id → 1xx header blocks received before the final one. */
  readonly informational = new Map<number, [string, string][][]>();
  /** Stream id → trailer block (a header block after the response headers). */
  readonly trailers = new Map<number, [string, string][]>();
  /** Promised stream id → request headers of a PUSH_PROMISE. */
  readonly pushPromises = new Map<number, [string, string][]>();
  /** Stream id → DATA payloads received (padding stripped). */
  readonly bodies = new Map<number, Buffer[]>();
  /** Streams for which a frame with END_STREAM was received (after its header block completed). */
  readonly endedStreams = new Set<number>();
  /** Decoder for the server's header blocks (inspect `hpack.stats` / `hpack.dynamicTable`). */
  readonly hpack = new HpackDecoder();
  /** Socket errors (EPIPE, ECONNRESET, …); they are recorded, never thrown. */
  readonly errors: Error[] = [];
  /** Frames this client could not make sense of (bad padding, HPACK errors, stray CONTINUATION…). */
  readonly protocolErrors: string[] = [];
  /** Resolves when the socket closes. */
  readonly closed: Promise<{ at: number; hadError: boolean }>;

  #opts: Required<Omit<H2RawConnectOptions, "host" | "timeoutMs">>;
  #pending: Buffer = EMPTY;
  #block: PendingBlock | undefined;
  #waiters = new Set<Waiter>();
  #isClosed = false;
  #closeInfo: { at: number; hadError: boolean } | undefined;
  #nextStreamId = 1;

  private constructor(socket: Socket, opts: H2RawConnectOptions) {
    this.socket = socket;
    this.#opts = {
      sendPreface: opts.sendPreface ?? true,
      autoAckSettings: opts.autoAckSettings ?? true,
      autoAckPing: opts.autoAckPing ?? true,
      keepFrames: opts.keepFrames ?? true,
    };
    socket.on("error", (err: Error) => this.errors.push(err));
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    this.closed = new Promise((resolve) => {
      socket.once("close", (hadError: boolean) => {
        this.#isClosed = true;
        this.#closeInfo = { at: Date.now(), hadError };
        resolve(this.#closeInfo);
        for (const w of [...this.#waiters]) w(undefined, -1);
      });
    });
  }

  /** Connects to `host:port` (TCP_NODELAY on) and, by default, sends the preface and an empty SETTINGS. */
  static connect(port: number, opts: H2RawConnectOptions = {}): Promise<H2RawConn> {
    const host = opts.host ?? "127.0.0.1";
    const timeoutMs = opts.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`h2-raw: connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once("error", onError);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", onError);
        socket.setNoDelay(true);
        const conn = new H2RawConn(socket, opts);
        if (conn.#opts.sendPreface) conn.write(Buffer.concat([PREFACE, settings()]));
        resolve(conn);
      });
    });
  }

  /** True once the socket has closed (or been destroyed). */
  get isClosed(): boolean {
    return this.#isClosed || this.socket.destroyed;
  }

  /** Returns the next client stream id (1, 3, 5, …) and advances it. */
  nextStreamId(): number {
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    return id;
  }

  /**
   * Writes bytes. Returns false (never throws) if the socket is closed or no longer writable;
   * otherwise true, even if the bytes were only buffered (see {@link writeAll} for backpressure).
   * Write errors such as EPIPE/ECONNRESET arrive asynchronously and are recorded in `errors`.
   */
  write(buf: Buffer): boolean {
    if (this.isClosed || !this.socket.writable) return false;
    try {
      this.socket.write(buf);
      return true;
    } catch (err) {
      this.errors.push(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  /**
   * Writes buffers in order, waiting for 'drain' whenever the socket's buffer is full. Resolves
   * true once everything was handed to the socket, false if the connection closed meanwhile.
   */
  async writeAll(bufs: Buffer[]): Promise<boolean> {
    for (const buf of bufs) {
      if (this.isClosed || !this.socket.writable) return false;
      let ok: boolean;
      try {
        ok = this.socket.write(buf);
      } catch (err) {
        this.errors.push(err instanceof Error ? err : new Error(String(err)));
        return false;
      }
      if (!ok && !(await this.#drainOrClose())) return false;
    }
    return !this.isClosed;
  }

  #drainOrClose(): Promise<boolean> {
    if (this.isClosed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        this.socket.off("drain", onDrain);
        this.socket.off("close", onClose);
        resolve(ok);
      };
      const onDrain = (): void => done(true);
      const onClose = (): void => done(false);
      this.socket.on("drain", onDrain);
      this.socket.on("close", onClose);
    });
  }

  /** Opens `n` more octets of flow-control window on the connection and on `streamId`. */
  ackData(streamId: number, n: number): boolean {
    const parts = [windowUpdate(0, n)];
    if (streamId !== 0) parts.push(windowUpdate(streamId, n));
    return this.write(Buffer.concat(parts));
  }

  /** Destroys the socket (no GOAWAY). */
  close(): void {
    this.socket.destroy();
  }

  /** Frames received of one type. */
  count(type: number): number {
    return this.typeCounts.get(type) ?? 0;
  }

  /** DATA octets received on one stream (padding excluded). */
  bodyLength(streamId: number): number {
    let n = 0;
    for (const b of this.bodies.get(streamId) ?? []) n += b.length;
    return n;
  }

  /** A one-line account of what was received, for error messages. */
  summary(): string {
    const types = [...this.typeCounts].map(([t, n]) => `${frameTypeName(t)}×${n}`).join(", ") || "none";
    const parts = [`frames received: ${types}`];
    if (this.goaways.length) parts.push(`goaways: ${this.goaways.map((g) => `${errorName(g.errorCode)}(last=${g.lastStreamId}${g.debug ? `, "${g.debug}"` : ""})`).join(", ")}`);
    if (this.resets.size) parts.push(`resets: ${[...this.resets].map(([s, c]) => `${s}:${errorName(c)}`).join(", ")}`);
    parts.push(this.isClosed ? `socket closed${this.#closeInfo?.hadError ? " with error" : ""}` : "socket open");
    if (this.errors.length) parts.push(`socket errors: ${this.errors.map((e) => (e as NodeJS.ErrnoException).code ?? e.message).join(", ")}`);
    if (this.protocolErrors.length) parts.push(`protocol errors: ${this.protocolErrors.join("; ")}`);
    return parts.join("; ");
  }

  /**
   * Resolves with the first frame matching `pred` among those received at index ≥ `fromIndex`
   * (already received or future; pass `conn.frameCount` to only consider frames not yet
   * received). With `keepFrames: false` only future frames can match. Rejects on timeout or when
   * the socket closes without a match, with a summary of what was received.
   */
  nextFrame(pred: (f: Frame) => boolean, timeoutMs = 5000, fromIndex = 0): Promise<Frame> {
    for (let i = fromIndex; i < this.frames.length; i++) {
      const f = this.frames[i];
      if (f && pred(f)) return Promise.resolve(f);
    }
    return new Promise((resolve, reject) => {
      const settle = (err: Error | undefined, f?: Frame): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        if (err) reject(err);
        else if (f) resolve(f);
      };
      const waiter: Waiter = (f, index) => {
        if (f === undefined) {
          settle(new Error(`h2-raw: connection closed before the awaited frame arrived (${this.summary()})`));
          return;
        }
        if (index < fromIndex) return;
        let match: boolean;
        try {
          match = pred(f);
        } catch (err) {
          settle(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (match) settle(undefined, f);
      };
      const timer = setTimeout(() => settle(new Error(`h2-raw: no matching frame within ${timeoutMs} ms (${this.summary()})`)), timeoutMs);
      if (this.isClosed) {
        settle(new Error(`h2-raw: connection already closed, no matching frame (${this.summary()})`));
        return;
      }
      this.#waiters.add(waiter);
    });
  }

  /**
   * Resolves with the first truthy value `cond` returns; it is evaluated now and after every
   * received frame and at close. Rejects if `cond` throws, on timeout, or when the connection
   * closes while `cond` is still falsy. `what` names the wait in error messages.
   */
  until<T>(cond: () => T | undefined | null | false, timeoutMs = 5000, what = "condition"): Promise<T> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (err: Error | undefined, value?: T): void => {
        if (timer) clearTimeout(timer);
        this.#waiters.delete(waiter);
        if (err) reject(err);
        else resolve(value as T);
      };
      const check = (): boolean => {
        let v: T | undefined | null | false;
        try {
          v = cond();
        } catch (err) {
          settle(err instanceof Error ? err : new Error(String(err)));
          return true;
        }
        if (v !== undefined && v !== null && v !== false) {
          settle(undefined, v);
          return true;
        }
        if (this.isClosed) {
          settle(new Error(`h2-raw: connection closed while waiting for ${what} (${this.summary()})`));
          return true;
        }
        return false;
      };
      const waiter: Waiter = () => {
        check();
      };
      if (check()) return;
      timer = setTimeout(() => settle(new Error(`h2-raw: timed out after ${timeoutMs} ms waiting for ${what} (${this.summary()})`)), timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /**
   * Waits for the response on `streamId` to end (END_STREAM), then returns status, headers and
   * body. Rejects if the stream is reset (message names the error code), if a GOAWAY says the
   * stream was not processed, on close, or on timeout.
   */
  response(streamId: number, timeoutMs = 5000): Promise<H2Response> {
    return this.until<H2Response>(
      () => {
        if (this.endedStreams.has(streamId)) {
          const headers = this.responseHeaders.get(streamId) ?? [];
          const status = Number(headers.find(([n]) => n === ":status")?.[1] ?? 0);
          return { status, headers, body: Buffer.concat(this.bodies.get(streamId) ?? []) };
        }
        const code = this.resets.get(streamId);
        if (code !== undefined) throw new Error(`h2-raw: stream ${streamId} was reset: ${errorName(code)} (${code})`);
        const ga = this.goaways.find((g) => g.lastStreamId < streamId);
        if (ga) throw new Error(`h2-raw: stream ${streamId} was not processed: GOAWAY ${errorName(ga.errorCode)} with last-stream-id ${ga.lastStreamId}${ga.debug ? ` ("${ga.debug}")` : ""}`);
        return undefined;
      },
      timeoutMs,
      `the response on stream ${streamId}`,
    );
  }

  // --- receiving ------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    const buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 9) {
      const length = buf.readUIntBE(off, 3);
      if (buf.length - off < 9 + length) break;
      const f: Frame = {
        type: buf[off + 3] ?? 0,
        flags: buf[off + 4] ?? 0,
        streamId: buf.readUInt32BE(off + 5) & 0x7fffffff,
        length,
        payload: buf.subarray(off + 9, off + 9 + length),
      };
      off += 9 + length;
      this.#receive(f);
    }
    // Copy the incomplete tail so a large chunk is not kept alive by a few leftover bytes.
    this.#pending = off < buf.length ? Buffer.from(buf.subarray(off)) : EMPTY;
  }

  #receive(f: Frame): void {
    const index = this.frameCount++;
    this.typeCounts.set(f.type, (this.typeCounts.get(f.type) ?? 0) + 1);
    if (this.#opts.keepFrames) this.frames.push(f);
    try {
      this.#interpret(f);
    } catch (err) {
      this.protocolErrors.push(`${frameTypeName(f.type)} on stream ${f.streamId}: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const w of [...this.#waiters]) w(f, index);
  }

  #interpret(f: Frame): void {
    if (this.#block && f.type !== FrameType.CONTINUATION) {
      this.protocolErrors.push(`${frameTypeName(f.type)} interrupted the header block of stream ${this.#block.streamId}`);
    }
    switch (f.type) {
      case FrameType.DATA: {
        this.dataBytesReceived += f.length;
        const body = unpad(f);
        let list = this.bodies.get(f.streamId);
        if (!list) this.bodies.set(f.streamId, (list = []));
        list.push(body);
        if (f.flags & Flag.END_STREAM) this.endedStreams.add(f.streamId);
        break;
      }
      case FrameType.HEADERS: {
        let frag = unpad(f);
        if (f.flags & Flag.PRIORITY) frag = frag.subarray(5);
        this.#startBlock({ streamId: f.streamId, kind: "headers", endStream: (f.flags & Flag.END_STREAM) !== 0, promisedId: 0, chunks: [frag] }, f.flags);
        break;
      }
      case FrameType.PUSH_PROMISE: {
        const body = unpad(f);
        if (body.length < 4) throw new RangeError("PUSH_PROMISE shorter than 4 octets");
        const promisedId = body.readUInt32BE(0) & 0x7fffffff;
        this.#startBlock({ streamId: f.streamId, kind: "push", endStream: false, promisedId, chunks: [body.subarray(4)] }, f.flags);
        break;
      }
      case FrameType.CONTINUATION: {
        const block = this.#block;
        if (!block || block.streamId !== f.streamId) throw new Error("CONTINUATION without a header block in progress on this stream");
        block.chunks.push(f.payload);
        if (f.flags & Flag.END_HEADERS) this.#finishBlock(block);
        break;
      }
      case FrameType.RST_STREAM:
        this.resets.set(f.streamId, parseRstStream(f.payload));
        break;
      case FrameType.SETTINGS:
        if (f.flags & Flag.ACK) {
          this.settingsAcks++;
        } else {
          const parsed = parseSettings(f.payload);
          this.serverSettings ??= parsed;
          if (this.#opts.autoAckSettings) this.write(settingsAck());
        }
        break;
      case FrameType.PING:
        if (!(f.flags & Flag.ACK) && this.#opts.autoAckPing) this.write(ping(f.payload, true));
        break;
      case FrameType.GOAWAY:
        this.goaways.push(parseGoaway(f.payload));
        break;
      default:
        break;
    }
  }

  #startBlock(block: PendingBlock, flags: number): void {
    this.#block = undefined;
    if (flags & Flag.END_HEADERS) this.#finishBlock(block);
    else this.#block = block;
  }

  #finishBlock(block: PendingBlock): void {
    this.#block = undefined;
    const list = this.hpack.decode(Buffer.concat(block.chunks));
    if (block.kind === "push") {
      this.pushPromises.set(block.promisedId, list);
      return;
    }
    const id = block.streamId;
    const status = list.find(([n]) => n === ":status")?.[1];
    if (status !== undefined && /^1\d\d$/.test(status)) {
      let infos = this.informational.get(id);
      if (!infos) this.informational.set(id, (infos = []));
      infos.push(list);
    } else if (!this.responseHeaders.has(id)) {
      this.responseHeaders.set(id, list);
    } else {
      this.trailers.set(id, list);
    }
    if (block.endStream) this.endedStreams.add(id);
  }
}
