// The HPACK Huffman code (RFC 7541 Appendix B): per-symbol codes, encoding and strict decoding.
import { bytes } from "./bytes.ts";
import { HpackError } from "./hpack-error.ts";

// Code lengths in bits of symbols 0–255 and EOS (256), transcribed from RFC 7541 Appendix B.
// The code is canonical (codes of one length are consecutive in symbol order, shorter lengths
// first), so the codes themselves follow from the lengths; buildHuffman() checks completeness.
// biome-ignore format: the RFC 7541 table is laid out 16 codes per row
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
