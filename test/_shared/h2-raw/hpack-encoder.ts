// HPACK encoding (RFC 7541), deliberately simple: literals without indexing, no Huffman unless
// asked, so blocks are stateless and can be sent in any order or on any connection.
import { bytes } from "./bytes.ts";
import { headers } from "./frames.ts";
import { huffmanEncode } from "./huffman.ts";

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
