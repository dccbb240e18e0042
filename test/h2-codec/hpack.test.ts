// tako's HPACK (src/core/http2/hpack.ts, huffman.ts): RFC 7541 Appendix C with and without
// Huffman, the Huffman table against Appendix B, encoder → decoder round trips, and random
// input that must end in the codec's own error or a result, never anything else.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { H2Error, HpackDecoder, HpackEncoder, HUFFMAN_CODES, HUFFMAN_LENGTHS, huffmanDecode, huffmanEncodeInto, huffmanLength } from "../../src/core/http2/index.ts";

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

  const req1: [string, string][] = [
    [":method", "GET"],
    [":scheme", "http"],
    [":path", "/"],
    [":authority", "www.example.com"],
  ];
  const req2: [string, string][] = [...req1, ["cache-control", "no-cache"]];
  const req3: [string, string][] = [
    [":method", "GET"],
    [":scheme", "https"],
    [":path", "/index.html"],
    [":authority", "www.example.com"],
    ["custom-key", "custom-value"],
  ];
  const reqTables: [string, string][][] = [
    [[":authority", "www.example.com"]],
    [
      ["cache-control", "no-cache"],
      [":authority", "www.example.com"],
    ],
    [
      ["custom-key", "custom-value"],
      ["cache-control", "no-cache"],
      [":authority", "www.example.com"],
    ],
  ];
  function requests(blocks: string[]): void {
    const d = new HpackDecoder();
    [req1, req2, req3].forEach((expected, i) => {
      assert.deepEqual(decode(d, hex(blocks[i]!)), expected, `request ${i + 1}`);
      assert.deepEqual(d.entries(), reqTables[i], `table after request ${i + 1}`);
      assert.equal(d.tableSize, [57, 110, 164][i]);
    });
  }

  test("C.3 requests without Huffman", () => {
    requests([
      "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
      "8286 84be 5808 6e6f 2d63 6163 6865",
      "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ]);
  });

  test("C.4 requests with Huffman", () => {
    requests(["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf", "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"]);
  });

  const res1: [string, string][] = [
    [":status", "302"],
    ["cache-control", "private"],
    ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
    ["location", "https://www.example.com"],
  ];
  const res2: [string, string][] = [[":status", "307"], ...res1.slice(1)];
  const cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
  const res3: [string, string][] = [
    [":status", "200"],
    ["cache-control", "private"],
    ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
    ["location", "https://www.example.com"],
    ["content-encoding", "gzip"],
    ["set-cookie", cookie],
  ];
  const resTables: [string, string][][] = [
    [
      ["location", "https://www.example.com"],
      ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
      ["cache-control", "private"],
      [":status", "302"],
    ],
    [
      [":status", "307"],
      ["location", "https://www.example.com"],
      ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
      ["cache-control", "private"],
    ],
    [
      ["set-cookie", cookie],
      ["content-encoding", "gzip"],
      ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
    ],
  ];
  function responses(blocks: string[]): void {
    const d = new HpackDecoder(256);
    [res1, res2, res3].forEach((expected, i) => {
      assert.deepEqual(decode(d, hex(blocks[i]!)), expected, `response ${i + 1}`);
      assert.deepEqual(d.entries(), resTables[i], `table after response ${i + 1}`);
      assert.equal(d.tableSize, [222, 222, 215][i]);
    });
  }

  test("C.5 responses without Huffman (evictions at table size 256)", () => {
    responses([
      "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
      "4803 3330 37c1 c0bf",
      "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
    ]);
  });

  test("C.6 responses with Huffman (evictions at table size 256)", () => {
    responses([
      "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
      "4883 640e ffc1 c0bf",
      "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    ]);
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
