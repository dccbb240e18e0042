/**
 * The HPACK Huffman code (RFC 7541 Appendix B): encoding, and a strict decoder that reads four
 * bits at a time through a state table built once from the code.
 *
 * The code is canonical (within one length, codes are consecutive in symbol order; shorter codes
 * come first), so the 257 code lengths of Appendix B determine every code. The table is checked
 * to be a complete prefix code when the module loads.
 */

import { H2Code, H2Error } from "./errors.ts";

// Code lengths in bits of symbols 0–255 and EOS (256), from RFC 7541 Appendix B.
// biome-ignore format: sixteen symbols per row, as the comments number them
const LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //   0–15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //  16–31
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,         //  32–47
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,              //  48–63
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,                //  64–79
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,             //  80–95
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,                //  96–111
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,            // 112–127
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

/** Code of each symbol (0–256), right-aligned in `HUFFMAN_LENGTHS[sym]` bits. */
export const HUFFMAN_CODES: Uint32Array = new Uint32Array(257);
/** Length in bits of each symbol's code. */
export const HUFFMAN_LENGTHS: Uint8Array = Uint8Array.from(LENGTHS);

{
  let code = 0;
  for (let len = 1; len <= 30; len++) {
    for (let sym = 0; sym <= EOS; sym++) if (HUFFMAN_LENGTHS[sym] === len) HUFFMAN_CODES[sym] = code++;
    if (len < 30) code *= 2;
  }
  if (code !== 2 ** 30) throw new Error("HPACK Huffman lengths do not form a complete prefix code");
}

// The decoding tree: 256 inner nodes (root 0); child[node * 2 + bit] ≥ 0 is an inner node,
// < 0 is a leaf holding symbol -1 - child.
const child = new Int32Array(512).fill(0x7fffffff);
{
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const len = HUFFMAN_LENGTHS[sym]!;
    const code = HUFFMAN_CODES[sym]!;
    let node = 0;
    for (let i = len - 1; i > 0; i--) {
      const slot = node * 2 + ((code >>> i) & 1);
      if (child[slot] === 0x7fffffff) child[slot] = nodes++;
      node = child[slot]!;
    }
    child[node * 2 + (code & 1)] = -1 - sym;
  }
}

// The nibble automaton: for inner node `s` and four input bits `n`, entry `s * 16 + n` holds
// the next node (bits 0–7), a symbol emitted on the way (bits 8–16, with bit 17 set when one
// was), and bit 18 when the bits reached EOS (always an error in a string literal).
// `ACCEPT[s]` is 1 when ending in node `s` is valid padding: fewer than 8 bits, all ones.
const STEP = new Uint32Array(256 * 16);
const ACCEPT = new Uint8Array(256);
const EMITS = 1 << 17;
const FAILS = 1 << 18;
{
  // depth and all-ones path of each inner node, found by walking from the root.
  const depth = new Int8Array(256).fill(-1);
  const ones = new Uint8Array(256);
  depth[0] = 0;
  ones[0] = 1;
  const queue = [0];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (let bit = 0; bit < 2; bit++) {
      const next = child[node * 2 + bit]!;
      if (next >= 0) {
        depth[next] = depth[node]! + 1;
        ones[next] = ones[node]! & bit;
        queue.push(next);
      }
    }
  }
  for (let s = 0; s < 256; s++) ACCEPT[s] = ones[s] === 1 && depth[s]! < 8 ? 1 : 0;
  for (let s = 0; s < 256; s++) {
    for (let n = 0; n < 16; n++) {
      let node = s;
      let out = 0;
      for (let i = 3; i >= 0; i--) {
        const next = child[node * 2 + ((n >>> i) & 1)]!;
        if (next >= 0) {
          node = next;
          continue;
        }
        const sym = -1 - next;
        if (sym === EOS) out |= FAILS;
        // A code is at least 5 bits long, so four bits emit at most one symbol.
        else out |= EMITS | (sym << 8);
        node = 0;
      }
      STEP[s * 16 + n] = out | node;
    }
  }
}

const NO_CHARS: number[] = [];

/**
 * Decodes the Huffman-coded `bytes[start, end)` into a latin1 string (one char per octet).
 * Throws a connection-level COMPRESSION_ERROR for EOS inside the string, padding longer than 7
 * bits, or padding that is not the most significant bits of EOS (all ones).
 */
export function huffmanDecode(bytes: Uint8Array, start: number, end: number): string {
  let state = 0;
  // Most strings are short; build them through a char array to avoid quadratic concatenation.
  const chars = end - start > 0 ? ([] as number[]) : NO_CHARS;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    let e = STEP[state * 16 + (b >>> 4)]!;
    if (e & FAILS) throw new H2Error(H2Code.COMPRESSION_ERROR, 0, "EOS in a Huffman-coded string");
    if (e & EMITS) chars.push((e >>> 8) & 0xff);
    state = e & 0xff;
    e = STEP[state * 16 + (b & 15)]!;
    if (e & FAILS) throw new H2Error(H2Code.COMPRESSION_ERROR, 0, "EOS in a Huffman-coded string");
    if (e & EMITS) chars.push((e >>> 8) & 0xff);
    state = e & 0xff;
  }
  if (ACCEPT[state] !== 1) throw new H2Error(H2Code.COMPRESSION_ERROR, 0, "invalid Huffman padding");
  if (chars.length < 4096) return String.fromCharCode.apply(null, chars);
  let s = "";
  for (let i = 0; i < chars.length; i += 4096) s += String.fromCharCode.apply(null, chars.slice(i, i + 4096));
  return s;
}

/** Octets the Huffman coding of `s` (latin1: one char per octet) takes. */
export function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/** Writes the Huffman coding of `s` into `out` at `pos` (room for {@link huffmanLength} octets); returns the end. */
export function huffmanEncodeInto(s: string, out: Uint8Array, pos: number): number {
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const len = HUFFMAN_LENGTHS[sym]!;
    const code = HUFFMAN_CODES[sym]!;
    // Fewer than 8 bits are pending before each code; bitwise operators work on 32 bits, so a
    // code longer than 24 bits goes in two steps.
    if (len > 24) {
      acc = (acc << (len - 16)) | (code >>> 16);
      bits += len - 16;
      while (bits >= 8) {
        bits -= 8;
        out[pos++] = (acc >>> bits) & 0xff;
      }
      acc &= (1 << bits) - 1;
      acc = (acc << 16) | (code & 0xffff);
      bits += 16;
    } else {
      acc = (acc << len) | code;
      bits += len;
    }
    while (bits >= 8) {
      bits -= 8;
      out[pos++] = (acc >>> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out[pos++] = ((acc << (8 - bits)) | (0xff >>> bits)) & 0xff;
  return pos;
}
