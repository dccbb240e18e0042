// tako's HPACK (src/core/http2/hpack.ts, huffman.ts): RFC 7541 Appendix C with and without
// Huffman, the Huffman table against Appendix B, encoder → decoder round trips, and random
// input that must end in the codec's own error or a result, never anything else.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { H2Error, HpackDecoder, HpackEncoder, HUFFMAN_CODES, HUFFMAN_LENGTHS, huffmanDecode, huffmanEncodeInto, huffmanLength } from "../../src/core/http2/index.ts";
import {
  C3_BLOCKS,
  C4_BLOCKS,
  C5_BLOCKS,
  C6_BLOCKS,
  REQUEST_TABLE_SIZES,
  REQUEST_TABLES,
  REQUESTS,
  RESPONSE_TABLE_LIMIT,
  RESPONSE_TABLE_SIZES,
  RESPONSE_TABLES,
  RESPONSES,
} from "../_shared/hpack-vectors.ts";

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, "").match(/../g) ?? [], (h) => Number.parseInt(h, 16));
const pairs = (flat: string[]): [string, string][] => flat.flatMap((_, i) => (i % 2 === 0 ? [[flat[i]!, flat[i + 1]!] as [string, string]] : []));
const decode = (d: HpackDecoder, b: Uint8Array): [string, string][] => pairs(d.decode(b, 0, b.length));

describe("HPACK decoder: RFC 7541 Appendix C", () => {
  test("C.2 single representations", () => {
    let d = new HpackDecoder();
    assert.deepEqual(decode(d, hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")), [["custom-key", "custom-header"]]);
    assert.deepEqual(d.entries(), [["custom-key", "custom-header"]]);
    assert.equal(d.tableSize, 55);
    d = new HpackDecoder();
    assert.deepEqual(decode(d, hex("040c 2f73 616d 706c 652f 7061 7468")), [[":path", "/sample/path"]]);
    assert.equal(d.tableSize, 0);
    d = new HpackDecoder();
    assert.deepEqual(decode(d, hex("1008 7061 7373 776f 7264 0673 6563 7265 74")), [["password", "secret"]]);
    assert.equal(d.tableSize, 0);
    d = new HpackDecoder();
    assert.deepEqual(decode(d, hex("82")), [[":method", "GET"]]);
    assert.equal(d.tableSize, 0);
  });

  function requests(blocks: readonly string[]): void {
    const d = new HpackDecoder();
    REQUESTS.forEach((expected, i) => {
      assert.deepEqual(decode(d, hex(blocks[i]!)), expected, `request ${i + 1}`);
      assert.deepEqual(d.entries(), REQUEST_TABLES[i], `table after request ${i + 1}`);
      assert.equal(d.tableSize, REQUEST_TABLE_SIZES[i]);
    });
  }

  test("C.3 requests without Huffman", () => {
    requests(C3_BLOCKS);
  });

  test("C.4 requests with Huffman", () => {
    requests(C4_BLOCKS);
  });

  function responses(blocks: readonly string[]): void {
    const d = new HpackDecoder(RESPONSE_TABLE_LIMIT);
    RESPONSES.forEach((expected, i) => {
      assert.deepEqual(decode(d, hex(blocks[i]!)), expected, `response ${i + 1}`);
      assert.deepEqual(d.entries(), RESPONSE_TABLES[i], `table after response ${i + 1}`);
      assert.equal(d.tableSize, RESPONSE_TABLE_SIZES[i]);
    });
  }

  test("C.5 responses without Huffman (evictions at table size 256)", () => {
    responses(C5_BLOCKS);
  });

  test("C.6 responses with Huffman (evictions at table size 256)", () => {
    responses(C6_BLOCKS);
  });
});

describe("Huffman code (RFC 7541 Appendix B)", () => {
  test("spot checks of codes across every length", () => {
    const rfc: [number, number, number][] = [
      [0, 0x1ff8, 13],
      [1, 0x7fffd8, 23],
      [9, 0xffffea, 24],
      [10, 0x3ffffffc, 30],
      [32, 0x14, 6],
      [48, 0x0, 5],
      [58, 0x5c, 7],
      [60, 0x7ffc, 15],
      [92, 0x7fff0, 19],
      [97, 0x3, 5],
      [126, 0x1ffd, 13],
      [127, 0xffffffc, 28],
      [128, 0xfffe6, 20],
      [199, 0x1ffffec, 25],
      [203, 0x7ffffde, 27],
      [255, 0x3ffffee, 26],
      [256, 0x3fffffff, 30],
    ];
    for (const [sym, code, len] of rfc) {
      assert.equal(HUFFMAN_LENGTHS[sym], len, `length of ${sym}`);
      assert.equal(HUFFMAN_CODES[sym], code, `code of ${sym}`);
    }
  });

  test("every symbol's code decodes to that symbol (each octet alone, padded with ones)", () => {
    for (let sym = 0; sym < 256; sym++) {
      const s = String.fromCharCode(sym);
      const out = new Uint8Array(huffmanLength(s));
      assert.equal(huffmanEncodeInto(s, out, 0), out.length);
      assert.equal(huffmanDecode(out, 0, out.length), s, `symbol ${sym}`);
    }
  });

  test("all 256 octets in one string round-trip", () => {
    const s = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const out = new Uint8Array(huffmanLength(s));
    huffmanEncodeInto(s, out, 0);
    assert.equal(huffmanDecode(out, 0, out.length), s);
  });

  const refused = (bytes: Uint8Array, why: string): void => {
    assert.throws(
      () => huffmanDecode(bytes, 0, bytes.length),
      (e: unknown) => e instanceof H2Error && e.code === 0x9 && e.connection,
      why,
    );
  };

  test("EOS in the string, padding over 7 bits, padding not all ones: COMPRESSION_ERROR", () => {
    refused(hex("ffff ffff"), "EOS (30 ones) inside the string");
    refused(hex("1f ff"), "'a' (00011) then 11 bits of ones: padding over 7 bits");
    refused(hex("1e"), "'a' then 110: padding with a zero");
    refused(hex("ff"), "8 bits of ones alone: padding over 7 bits");
    // 'a' then 111: valid.
    assert.equal(huffmanDecode(hex("1f"), 0, 1), "a");
    assert.equal(huffmanDecode(new Uint8Array(0), 0, 0), "");
  });
});

describe("HPACK encoder → decoder", () => {
  const connectionSpecific = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"]);
  const name = fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,20}$/).filter((n) => !connectionSpecific.has(n));
  const value = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 60 }).map((v) => v.trim());
  const fields = fc.array(fc.tuple(fc.oneof(name, fc.constantFrom("content-type", "date", "server", "accept-encoding", "set-cookie")), value), { maxLength: 20 });

  for (const huffman of [false, true]) {
    test(`random responses round-trip (huffman: ${huffman})`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 100, max: 999 }), fields, (status, list) => {
          const enc = new HpackEncoder(huffman);
          const flat = list.flat();
          const out = new Uint8Array(16 + flat.reduce((n, s) => n + s.length + 6, 0));
          const end = enc.encodeInto(status, flat, out, 0);
          const d = new HpackDecoder();
          assert.deepEqual(d.decode(out, 0, end), [":status", String(status), ...flat]);
          assert.equal(d.tableSize, 0, "the encoder never indexes");
        }),
        { numRuns: 300 },
      );
    });
  }

  test("one decoder over many blocks (literals it keeps by their octets): every block decodes to its own fields", () => {
    // Values from a small pool repeat (the decoder answers them from what it kept), others are
    // new, with the same lengths as kept ones (so a byte compare, not the length, tells them apart).
    const pooled = fc.constantFrom("/echo", "/users/42", "62", "61", "/echp", "application/json", "");
    const list = fc.array(fc.tuple(fc.constantFrom("content-length", ":path", "x-a", "x-b"), fc.oneof(pooled, value)), { maxLength: 12 });
    for (const huffman of [false, true]) {
      fc.assert(
        fc.property(fc.array(list, { minLength: 1, maxLength: 40 }), (blocks) => {
          const d = new HpackDecoder();
          const enc = new HpackEncoder(huffman);
          for (const fields of blocks) {
            const flat = fields.flat();
            const out = new Uint8Array(16 + flat.reduce((n, s) => n + s.length + 6, 0));
            const end = enc.encodeInto(200, flat, out, 0);
            assert.deepEqual(d.decode(out, 0, end), [":status", "200", ...flat]);
          }
        }),
        { numRuns: 200 },
      );
    }
  });

  test("names go out in lower case; connection-specific fields are left out", () => {
    const enc = new HpackEncoder();
    const out = new Uint8Array(256);
    const fields = ["X-Custom", "A", "Connection", "close", "transfer-encoding", "chunked", "Content-Type", "text/plain", "te", "trailers", "Keep-Alive", "5"];
    for (let round = 0; round < 2; round++) {
      const end = enc.encodeInto(200, fields, out, 0);
      assert.deepEqual(new HpackDecoder().decode(out, 0, end), [":status", "200", "x-custom", "A", "content-type", "text/plain"], `round ${round}`);
    }
  });

  test("exact static entries are indexed; a reduced peer table size is announced once", () => {
    const enc = new HpackEncoder();
    const out = new Uint8Array(64);
    let end = enc.encodeInto(200, ["accept-encoding", "gzip, deflate"], out, 0);
    assert.deepEqual([...out.subarray(0, end)], [0x88, 0x90]);
    enc.setPeerTableSize(0);
    end = enc.encodeInto(404, [], out, 0);
    assert.deepEqual([...out.subarray(0, end)], [0x20, 0x8d]);
    end = enc.encodeInto(404, [], out, 0);
    assert.deepEqual([...out.subarray(0, end)], [0x8d]);
  });
});

describe("HPACK decoder: refusals", () => {
  const compression = (e: unknown): boolean => e instanceof H2Error && e.code === 0x9 && e.connection;
  const refuse = (block: string, why: string, d = new HpackDecoder()): void => {
    const b = hex(block);
    assert.throws(() => d.decode(b, 0, b.length), compression, why);
  };

  test("bad indices, truncation, size updates out of place or too large, huge integers", () => {
    refuse("80", "index 0");
    refuse("be", "dynamic index 62 in an empty table");
    refuse("7f00", "literal with name index 63+0 beyond the table");
    refuse("400a 6375", "truncated string");
    refuse("ff", "truncated integer");
    refuse("ff ff ff ff ff 0f", "integer over 2^28");
    refuse("3fe2 1f", "size update to 4096+ over the limit (4097)");
    refuse("82 20", "size update after a field");
    // Size updates at the start are fine, two of them too.
    const d = new HpackDecoder();
    assert.deepEqual(decode(d, hex("20 3fe1 1f 82")), [[":method", "GET"]]);
  });

  test("invalid field names and values are reported as malformed, the context stays in step", () => {
    const d = new HpackDecoder();
    // Literal with incremental indexing, new name "X-A" (upper case), value "v".
    const b = hex("4003 582d 41 0176 be");
    const out = d.decode(b, 0, b.length);
    assert.equal(out.length, 4);
    assert.match(d.malformed ?? "", /invalid field/);
    // The entry is in the table, and referencing it again is malformed too.
    const again = hex("be");
    d.decode(again, 0, again.length);
    assert.match(d.malformed ?? "", /invalid field/);
    const ok = hex("82");
    d.decode(ok, 0, ok.length);
    assert.equal(d.malformed, null);
    // A value with CR, with a leading space.
    for (const v of ["0261 0d", "0220 61", "0261 00", "0261 20"]) {
      const e = hex(`0001 78${v}`);
      const dd = new HpackDecoder();
      dd.decode(e, 0, e.length);
      assert.notEqual(dd.malformed, null, v);
    }
  });

  test("past the list limit fields are dropped but the table is kept in step", () => {
    const d = new HpackDecoder();
    const big = "b".repeat(3000);
    const enc = (s: string): number[] => [
      s.length >= 127 ? 0x7f : s.length,
      ...(s.length >= 127 ? [s.length - 127 - 128 * Math.floor((s.length - 127) / 128) + 128, Math.floor((s.length - 127) / 128)] : []),
      ...Array.from(s, (c) => c.charCodeAt(0)),
    ];
    // 82, then literal with indexing "x-b": 3000 b's, then 200 references to it.
    const block = Uint8Array.from([0x82, 0x40, ...enc("x-b"), ...enc(big), ...Array.from({ length: 200 }, () => 0xbe)]);
    const out = d.decode(block, 0, block.length, 16 * 1024);
    assert.equal(d.oversize, true);
    assert.ok(out.length <= 2 * 8, `${out.length / 2} fields kept`);
    assert.deepEqual(d.entries(), [["x-b", big]]);
  });

  test("random bytes: a result or an H2Error, nothing else, and no hang", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 4 }), (blocks) => {
        const d = new HpackDecoder();
        for (const b of blocks) {
          try {
            d.decode(b, 0, b.length, 4096);
          } catch (e) {
            if (!(e instanceof H2Error)) throw e;
            return;
          }
        }
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          huffmanDecode(b, 0, b.length);
        } catch (e) {
          if (!(e instanceof H2Error)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });
});
