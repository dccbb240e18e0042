/**
 * HPACK (RFC 7541): the request-side decoder with its dynamic table, and the response-side
 * encoder (static table and literals only: it never adds to the peer's dynamic table).
 *
 * Decoding errors of the compression context (bad index, truncated integer or string, a size
 * update out of place or over our limit, Huffman errors) are connection errors
 * (COMPRESSION_ERROR): the context cannot be trusted after them. A field whose name or value
 * breaks RFC 9113 §8.2.1 does not break the context: the decoder reports it in
 * {@link HpackDecoder.malformed} and the stream is refused. Past the header list limit the
 * decoder keeps the table in step but keeps no more fields ({@link HpackDecoder.oversize}).
 */

import { isConnectionSpecific } from "../h2.ts";
import { connError, H2Code } from "./errors.ts";
import { huffmanDecode, huffmanEncodeInto, huffmanLength } from "./huffman.ts";
import { STATIC_COUNT, STATIC_EXACT, STATIC_NAME_INDEX, STATIC_NAMES, STATIC_VALUES, STATUS_INDEX } from "./static-table.ts";

/** Our SETTINGS_HEADER_TABLE_SIZE: the protocol default, which we never change. */
export const HPACK_TABLE_SIZE = 4096;

/** Names whose encoded prefix an encoder keeps: a handler inventing names cannot grow it without bound. */
const NAME_CACHE = 256;

/** Integers above this are refused (COMPRESSION_ERROR): no index, length or size is larger. */
const MAX_INT = 2 ** 28;

// Field-name octets allowed by RFC 9113 §8.2.1: visible ASCII, no upper case (a colon only as
// the first octet of a pseudo-header, checked apart).
const NAME_OK = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) NAME_OK[c] = c >= 0x41 && c <= 0x5a ? 0 : c === 0x3a ? 0 : 1;

/** True for a field name RFC 9113 §8.2.1 allows (a leading colon is allowed: pseudo-headers are checked later). */
function validName(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = s.charCodeAt(0) === 0x3a ? 1 : 0; i < s.length; i++) if (NAME_OK[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** True for a field value RFC 9113 §8.2.1 allows: no NUL, CR or LF; no leading or trailing SP/HTAB. */
function validValue(s: string): boolean {
  const n = s.length;
  if (n === 0) return true;
  let c = s.charCodeAt(0);
  if (c === 0x20 || c === 0x09) return false;
  c = s.charCodeAt(n - 1);
  if (c === 0x20 || c === 0x09) return false;
  for (let i = 0; i < n; i++) {
    c = s.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
  }
  return true;
}

const ascii = new TextDecoder("utf-8");

/** `bytes[start, end)` as latin1 (one char per octet). */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 16) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  let wide = false;
  for (let i = start; i < end; i++)
    if (bytes[i]! >= 0x80) {
      wide = true;
      break;
    }
  // The native decoder is exact for ASCII; above 0x7f it would decode UTF-8.
  if (!wide) return ascii.decode(bytes.subarray(start, end));
  let s = "";
  for (let i = start; i < end; i += 4096) s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return s;
}

/** Literals each decoder keeps (by their octets), and the longest kept. */
const LITERALS_KEPT = 8;
const LITERAL_KEPT_MAX = 64;

/** The request-side HPACK decoder of one connection. */
export class HpackDecoder {
  /** Dynamic table, newest first: names, values, and whether the field broke §8.2.1. */
  #names: string[] = [];
  #values: string[] = [];
  #bad: boolean[] = [];
  #size = 0;
  #max = HPACK_TABLE_SIZE;
  readonly #limit: number;
  // Cursor of the block being decoded.
  #pos = 0;
  /** After {@link decode}: a field broke RFC 9113 §8.2.1 (the stream is malformed), or null. */
  malformed: string | null = null;
  /** After {@link decode}: the header list passed the size limit; fields past it were dropped. */
  oversize = false;
  /**
   * Literals decoded lately, by their octets (see {@link #string}): a client may send the same
   * field as a literal with every request (nghttp2 never indexes `:path` or `content-length`),
   * and comparing a few octets costs less than decoding them again.
   */
  readonly #litOctets = new Uint8Array(LITERALS_KEPT * LITERAL_KEPT_MAX);
  /** Each kept literal's octet count (-1: none yet), its coding, its text; slot `k`'s octets start at `k * LITERAL_KEPT_MAX`. */
  readonly #litLength: number[] = new Array<number>(LITERALS_KEPT).fill(-1);
  readonly #litHuffman: boolean[] = new Array<boolean>(LITERALS_KEPT).fill(false);
  readonly #litText: string[] = new Array<string>(LITERALS_KEPT).fill("");
  #litNext = 0;

  /** `limit` is our SETTINGS_HEADER_TABLE_SIZE, the most a size update may ask for. */
  constructor(limit = HPACK_TABLE_SIZE) {
    this.#limit = limit;
    this.#max = limit;
  }

  /** Current size of the dynamic table (RFC 7541 §4.1: name + value + 32 per entry). */
  get tableSize(): number {
    return this.#size;
  }

  /** The dynamic table, newest entry first (for tests and debugging). */
  entries(): [string, string][] {
    return this.#names.map((name, i) => [name, this.#values[i]!]);
  }

  /**
   * Decodes one complete header block `bytes[start, end)` into `[name, value, name, value, …]`
   * in wire order. Fields beyond `maxListSize` (RFC 9113 §6.5.2 accounting) are not kept and
   * {@link oversize} is set; a field RFC 9113 §8.2.1 forbids sets {@link malformed}. Throws an
   * {@link H2Error} (connection COMPRESSION_ERROR) when the block breaks HPACK.
   */
  decode(bytes: Uint8Array, start: number, end: number, maxListSize = Number.MAX_SAFE_INTEGER): string[] {
    const out: string[] = [];
    this.malformed = null;
    this.oversize = false;
    let listSize = 0;
    let fields = false;
    this.#pos = start;
    while (this.#pos < end) {
      const b = bytes[this.#pos]!;
      let name: string;
      let value: string;
      let bad = false;
      if (b & 0x80) {
        const index = this.#int(bytes, end, 7);
        if (index === 0) throw connError(H2Code.COMPRESSION_ERROR, "indexed field 0");
        if (index <= STATIC_COUNT) {
          name = STATIC_NAMES[index]!;
          value = STATIC_VALUES[index]!;
        } else {
          const d = index - STATIC_COUNT - 1;
          if (d >= this.#names.length) throw connError(H2Code.COMPRESSION_ERROR, `index ${index} beyond the table`);
          name = this.#names[d]!;
          value = this.#values[d]!;
          bad = this.#bad[d]!;
        }
      } else if ((b & 0xe0) === 0x20) {
        // Dynamic table size update (RFC 7541 §6.3): only before the first field.
        if (fields) throw connError(H2Code.COMPRESSION_ERROR, "table size update after a field");
        const size = this.#int(bytes, end, 5);
        if (size > this.#limit) throw connError(H2Code.COMPRESSION_ERROR, `table size update to ${size} over ${this.#limit}`);
        this.#max = size;
        this.#evict(0);
        continue;
      } else {
        const indexing = (b & 0xc0) === 0x40;
        const nameIndex = this.#int(bytes, end, indexing ? 6 : 4);
        const skip = this.oversize && !indexing;
        if (nameIndex === 0) {
          name = this.#string(bytes, end, skip);
          if (!skip && !validName(name)) bad = true;
        } else if (nameIndex <= STATIC_COUNT) name = STATIC_NAMES[nameIndex]!;
        else {
          const d = nameIndex - STATIC_COUNT - 1;
          if (d >= this.#names.length) throw connError(H2Code.COMPRESSION_ERROR, `name index ${nameIndex} beyond the table`);
          name = this.#names[d]!;
          bad = this.#bad[d]!;
        }
        value = this.#string(bytes, end, skip);
        if (!skip && !validValue(value)) bad = true;
        if (indexing) this.#insert(name, value, bad);
        if (skip) continue;
      }
      fields = true;
      if (this.oversize) continue;
      listSize += name.length + value.length + 32;
      if (listSize > maxListSize) {
        this.oversize = true;
        continue;
      }
      if (bad && this.malformed === null) this.malformed = `invalid field ${JSON.stringify(name.slice(0, 64))}`;
      out.push(name, value);
    }
    return out;
  }

  /** An HPACK integer with an `n`-bit prefix at the cursor (RFC 7541 §5.1). */
  #int(bytes: Uint8Array, end: number, n: number): number {
    const mask = (1 << n) - 1;
    let value = bytes[this.#pos++]! & mask;
    if (value < mask) return value;
    let shift = 0;
    for (;;) {
      if (this.#pos >= end) throw connError(H2Code.COMPRESSION_ERROR, "truncated integer");
      const b = bytes[this.#pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (value > MAX_INT) throw connError(H2Code.COMPRESSION_ERROR, "integer too large");
      if ((b & 0x80) === 0) return value;
      shift += 7;
    }
  }

  /** A string literal at the cursor (RFC 7541 §5.2); with `skip` only stepped over. */
  #string(bytes: Uint8Array, end: number, skip: boolean): string {
    if (this.#pos >= end) throw connError(H2Code.COMPRESSION_ERROR, "truncated string");
    const huffman = (bytes[this.#pos]! & 0x80) !== 0;
    const length = this.#int(bytes, end, 7);
    const start = this.#pos;
    if (length > end - start) throw connError(H2Code.COMPRESSION_ERROR, "string longer than the block");
    this.#pos = start + length;
    if (skip) return "";
    const kept = length <= LITERAL_KEPT_MAX;
    const octets = this.#litOctets;
    if (kept) {
      next: for (let k = 0; k < LITERALS_KEPT; k++) {
        if (this.#litLength[k] !== length || this.#litHuffman[k] !== huffman) continue;
        const at = k * LITERAL_KEPT_MAX;
        for (let i = 0; i < length; i++) if (octets[at + i] !== bytes[start + i]) continue next;
        return this.#litText[k]!;
      }
    }
    const text = huffman ? huffmanDecode(bytes, start, start + length) : latin1(bytes, start, start + length);
    if (kept) {
      // Copied into the decoder's own buffer: nothing is allocated for a literal that does not repeat.
      const k = this.#litNext;
      this.#litNext = (k + 1) % LITERALS_KEPT;
      octets.set(bytes.subarray(start, start + length), k * LITERAL_KEPT_MAX);
      this.#litLength[k] = length;
      this.#litHuffman[k] = huffman;
      this.#litText[k] = text;
    }
    return text;
  }

  #insert(name: string, value: string, bad: boolean): void {
    const size = name.length + value.length + 32;
    // RFC 7541 §4.4: an entry larger than the table empties it and is not added.
    if (size > this.#max) {
      this.#evict(this.#max);
      return;
    }
    this.#evict(size);
    this.#names.unshift(name);
    this.#values.unshift(value);
    this.#bad.unshift(bad);
    this.#size += size;
  }

  /** Evicts the oldest entries until `room` more octets fit under the maximum size. */
  #evict(room: number): void {
    while (this.#size + room > this.#max && this.#names.length > 0) {
      this.#size -= this.#names.pop()!.length + this.#values.pop()!.length + 32;
      this.#bad.pop();
    }
  }
}

/** Octets {@link HpackEncoder.encodeInto} needs at most for a response with these fields. */
export function encodedBound(headers: readonly string[]): number {
  let n = 16;
  for (let i = 0; i < headers.length; i++) n += headers[i]!.length + 6;
  return n;
}

/** Writes an HPACK integer with an `n`-bit prefix and the first octet's high bits `first`; returns the end. */
function writeInt(out: Uint8Array, pos: number, value: number, n: number, first: number): number {
  const mask = (1 << n) - 1;
  if (value < mask) {
    out[pos++] = first | value;
    return pos;
  }
  out[pos++] = first | mask;
  value -= mask;
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

/**
 * The response-side encoder. It never indexes: exact static entries are written indexed,
 * everything else as a literal without indexing (with the static name index when there is one),
 * so it needs no table and a peer's SETTINGS_HEADER_TABLE_SIZE only makes it announce a size
 * update once.
 */
export class HpackEncoder {
  /** Huffman-code literals when that is shorter. */
  huffman: boolean;
  #pendingUpdate = -1;
  /** Encoded name prefixes by name (see #namePrefix). */
  readonly #names = new Map<string, Uint8Array>();

  constructor(huffman = false) {
    this.huffman = huffman;
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE: below our (empty) table's default, a size update starts the next block. */
  setPeerTableSize(size: number): void {
    if (size < HPACK_TABLE_SIZE) this.#pendingUpdate = this.#pendingUpdate === -1 ? size : Math.min(size, this.#pendingUpdate);
  }

  /**
   * Writes a response header block: `:status`, then `headers` (`[name, value, …]`, lower-case
   * names, latin1 values) into `out` at `pos`, which has room for {@link encodedBound}. Returns the end.
   */
  encodeInto(status: number, headers: readonly string[], out: Uint8Array, pos: number): number {
    if (this.#pendingUpdate !== -1) {
      pos = writeInt(out, pos, this.#pendingUpdate, 5, 0x20);
      this.#pendingUpdate = -1;
    }
    const si = STATUS_INDEX.get(status);
    if (si !== undefined) out[pos++] = 0x80 | si;
    else {
      out[pos++] = 0x08; // literal without indexing, name :status (index 8)
      pos = this.#literal(String(status), out, pos);
    }
    for (let i = 0; i < headers.length; i += 2) pos = this.field(headers[i]!, headers[i + 1]!, out, pos);
    return pos;
  }

  /**
   * Writes one field (a trailer, or a response field) into `out` at `pos`; returns the end.
   * Names are sent in lower case; connection-specific fields (RFC 9113 §8.2.2) are left out.
   */
  field(name: string, value: string, out: Uint8Array, pos: number): number {
    let prefix = this.#names.get(name);
    if (prefix === undefined) {
      const lower = name.toLowerCase();
      const exact = STATIC_EXACT.get(lower)?.get(value);
      if (exact !== undefined) {
        out[pos++] = 0x80 | exact;
        return pos;
      }
      prefix = this.#namePrefix(name, lower);
    }
    if (prefix.length === 0) return pos;
    for (let i = 0; i < prefix.length; i++) out[pos++] = prefix[i]!;
    return this.#literal(value, out, pos);
  }

  /**
   * The octets that start a literal without indexing for `name`: its static index, or the
   * lower-cased name as a literal; empty for a connection-specific field, which is not sent.
   * Kept per name (at most {@link NAME_CACHE} names) unless the name has static entries with
   * values, which {@link field} checks first.
   */
  #namePrefix(name: string, lower: string): Uint8Array {
    const nameIndex = STATIC_NAME_INDEX.get(lower);
    let prefix: Uint8Array;
    if (isConnectionSpecific(lower)) prefix = new Uint8Array(0);
    else if (nameIndex !== undefined) {
      prefix = new Uint8Array(6);
      prefix = prefix.subarray(0, writeInt(prefix, 0, nameIndex, 4, 0));
    } else {
      prefix = new Uint8Array(7 + lower.length * 2);
      prefix[0] = 0;
      prefix = prefix.subarray(0, this.#literal(lower, prefix, 1));
    }
    if (!STATIC_EXACT.has(lower) && this.#names.size < NAME_CACHE) this.#names.set(name, prefix);
    return prefix;
  }

  #literal(s: string, out: Uint8Array, pos: number): number {
    if (this.huffman && s.length > 3) {
      const h = huffmanLength(s);
      if (h < s.length) {
        pos = writeInt(out, pos, h, 7, 0x80);
        return huffmanEncodeInto(s, out, pos);
      }
    }
    pos = writeInt(out, pos, s.length, 7, 0);
    for (let i = 0; i < s.length; i++) out[pos++] = s.charCodeAt(i);
    return pos;
  }
}
