/**
 * Byte classes of HTTP/1.1 (RFC 9110 §5.6, RFC 9112, RFC 3986) as 256-entry tables, and the
 * latin1 decoding the codec uses. Hot path: one table load per byte instead of range compares,
 * and strings decoded once per field.
 */

function table(ranges: readonly (readonly [number, number])[], chars = ""): Uint8Array {
  const t = new Uint8Array(256);
  for (const [from, to] of ranges) for (let c = from; c <= to; c++) t[c] = 1;
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

const ALNUM: readonly (readonly [number, number])[] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
];

/** tchar (RFC 9110 §5.6.2): what a method, a field name and a chunk-extension name are made of. */
export const TOKEN = table(ALNUM, "!#$%&'*+-.^_`|~");

/** field-vchar, SP and HTAB (RFC 9110 §5.5): a field value. NUL, CR, LF, the other CTLs and DEL are not. */
export const FIELD_VALUE = table([
  [0x09, 0x09],
  [0x20, 0x7e],
  [0x80, 0xff],
]);

/** Visible ASCII: what a request target may hold (RFC 9112 §3.2; llhttp refuses obs-text there too). */
export const TARGET = table([[0x21, 0x7e]]);

/** The authority of an absolute-form or authority-form target (RFC 3986 §3.2: userinfo, host, port). */
export const AUTHORITY = table(ALNUM, "-._~!$&'()*+,;=%:@[]");

/** qdtext of a quoted-string (RFC 9110 §5.6.4). */
export const QDTEXT = table([
  [0x09, 0x09],
  [0x20, 0x21],
  [0x23, 0x5b],
  [0x5d, 0x7e],
  [0x80, 0xff],
]);

/** Hex digit values; -1 for any other byte. */
export const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX[0x41 + c] = HEX[0x61 + c] = 10 + c;

const ascii = new TextDecoder("utf-8");

/**
 * `bytes[start, end)` as a string, one char per byte (latin1, as node:http reads heads).
 * `wide`: some byte is ≥ 0x80 (the caller's scan knows). Short ASCII runs are built with
 * `fromCharCode`; longer ones go through the native decoder, which is exact for ASCII.
 * (`TextDecoder("latin1")` is windows-1252 in the Encoding standard: 0x80–0x9f would change.)
 */
export function latin1(bytes: Uint8Array, start: number, end: number, wide: boolean): string {
  const n = end - start;
  if (n <= 12) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  if (!wide) return ascii.decode(bytes.subarray(start, end));
  let s = "";
  for (let i = start; i < end; i += 4096) s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return s;
}

/** True when `bytes[start, end)` equals the lower-case ASCII `lower`, ignoring case. */
export function equalsLower(bytes: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((bytes[start + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** True when `s` holds exactly the bytes `bytes[start, end)`, one char per byte. */
export function sameBytes(s: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

/**
 * Field names seen so far, by length and first and last byte: a name that repeats (most do)
 * costs a byte compare instead of a new string. Bounded: past `NAMES_MAX` entries new names
 * are decoded and not kept, so a client sending random names cannot grow it.
 */
const names = new Map<number, string>();
const NAMES_MAX = 1024;

/** The field name `bytes[start, end)` (a token: ASCII), shared with earlier requests when it repeats. */
export function fieldName(bytes: Uint8Array, start: number, end: number): string {
  const key = (end - start) | (bytes[start]! << 16) | (bytes[end - 1]! << 24);
  const known = names.get(key);
  if (known !== undefined && sameBytes(known, bytes, start, end)) return known;
  const name = latin1(bytes, start, end, false);
  if (known === undefined && names.size < NAMES_MAX) names.set(key, name);
  return name;
}
