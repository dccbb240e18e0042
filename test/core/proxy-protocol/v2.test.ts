// The PROXY protocol v2 (binary) parser: every family and command, and every malformed fixed part.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseProxyHeader, PROXY_V2_MAX_ADDRESS_BYTES, PROXY_V2_SIGNATURE, type ProxyHeader } from "../../../src/core/proxy-protocol/index.ts";
import { enc, hex, concat, u16, tlv, v2, INET_ADDR, INET6_ADDR, unixAddr, parsed, rejects, assertEveryPrefixIncomplete, assertFeedLandsExactly, BASE } from "./_helpers.ts";

describe("v2 addresses", () => {
  test("INET STREAM, PROXY (a literal vector)", () => {
    const bytes = hex("0d0a0d0a000d0a515549540a 21 11 000c c0a80001 0a000002 d204 01bb");
    assert.deepEqual(parsed(bytes), {
      ...BASE,
      version: 2,
      command: "PROXY",
      family: "TCP4",
      transport: "STREAM",
      sourceAddress: "192.168.0.1",
      sourcePort: 53764,
      destinationAddress: "10.0.0.2",
      destinationPort: 443,
      headerLength: 28,
    });
  });

  test("INET DGRAM", () => {
    const h = parsed(v2({ fam: 0x12, addr: INET_ADDR }));
    assert.equal(h.family, "TCP4");
    assert.equal(h.transport, "DGRAM");
    assert.equal(h.sourceAddress, "192.168.0.1");
    assert.equal(h.destinationPort, 443);
  });

  test("INET6 STREAM and DGRAM, PROXY", () => {
    for (const [fam, transport] of [
      [0x21, "STREAM"],
      [0x22, "DGRAM"],
    ] as const) {
      const h = parsed(v2({ fam, addr: INET6_ADDR }));
      assert.equal(h.family, "TCP6");
      assert.equal(h.transport, transport);
      assert.equal(h.sourceAddress, "2001:db8::1");
      assert.equal(h.destinationAddress, "fe80::");
      assert.equal(h.sourcePort, 80);
      assert.equal(h.destinationPort, 8080);
      assert.equal(h.headerLength, 16 + 36);
    }
  });

  test("INET6 formatting (RFC 5952)", () => {
    const cases: [bytes: string, text: string][] = [
      ["00000000000000000000000000000000", "::"],
      ["00000000000000000000000000000001", "::1"],
      ["00000000000000000000ffffc0000201", "::ffff:192.0.2.1"],
      ["20010db8000000010000000000000001", "2001:db8:0:1::1"],
      ["20010db8000000000001000000000001", "2001:db8::1:0:0:1"],
      ["20010db8000000010001000100010001", "2001:db8:0:1:1:1:1:1"],
      ["ABCDEF0123456789ABCDEF0123456789".toLowerCase(), "abcd:ef01:2345:6789:abcd:ef01:2345:6789"],
      ["fe800000000000000000000000000000", "fe80::"],
    ];
    for (const [b, text] of cases) {
      const h = parsed(v2({ fam: 0x21, addr: concat(hex(b), hex(b), hex("00010002")) }));
      assert.equal(h.sourceAddress, text, b);
    }
  });

  test("UNIX STREAM and DGRAM, PROXY: NUL-terminated paths", () => {
    for (const [fam, transport] of [
      [0x31, "STREAM"],
      [0x32, "DGRAM"],
    ] as const) {
      const h = parsed(v2({ fam, addr: unixAddr("/run/client.sock", "/run/tako.sock") }));
      assert.equal(h.family, "UNIX");
      assert.equal(h.transport, transport);
      assert.equal(h.sourceAddress, "/run/client.sock");
      assert.equal(h.destinationAddress, "/run/tako.sock");
      assert.equal(h.sourcePort, null);
      assert.equal(h.destinationPort, null);
      assert.equal(h.headerLength, 16 + 216);
    }
    const full = new Uint8Array(216).fill(0x61); // 108 bytes without a NUL each
    const h = parsed(v2({ fam: 0x31, addr: full }));
    assert.equal(h.sourceAddress, "a".repeat(108));
    assert.equal(h.destinationAddress, "a".repeat(108));
  });

  test("UNSPEC, PROXY: no addresses, the length is all TLVs", () => {
    const h = parsed(v2({ fam: 0x00 }));
    assert.deepEqual(h, {
      ...BASE,
      version: 2,
      command: "PROXY",
      family: "UNSPEC",
      transport: "UNSPEC",
      sourceAddress: null,
      sourcePort: null,
      destinationAddress: null,
      destinationPort: null,
      headerLength: 16,
    });
    const withTlv = parsed(v2({ fam: 0x00, tlvs: [tlv(0x02, enc("example.com"))] }));
    assert.equal(withTlv.authority, "example.com");
    assert.equal(withTlv.sourceAddress, null);
  });

  test("LOCAL with each family: addresses ignored, TLVs still parsed", () => {
    const local0 = parsed(hex("0d0a0d0a000d0a515549540a 20 00 0000"));
    assert.deepEqual(local0, {
      ...BASE,
      version: 2,
      command: "LOCAL",
      family: "UNSPEC",
      transport: "UNSPEC",
      sourceAddress: null,
      sourcePort: null,
      destinationAddress: null,
      destinationPort: null,
      headerLength: 16,
    });
    const blocks: [fam: number, addr: Uint8Array, family: ProxyHeader["family"]][] = [
      [0x00, new Uint8Array(0), "UNSPEC"],
      [0x11, INET_ADDR, "TCP4"],
      [0x12, INET_ADDR, "TCP4"],
      [0x21, INET6_ADDR, "TCP6"],
      [0x22, INET6_ADDR, "TCP6"],
      [0x31, unixAddr("/a", "/b"), "UNIX"],
      [0x32, unixAddr("/a", "/b"), "UNIX"],
    ];
    for (const [fam, addr, family] of blocks) {
      const h = parsed(v2({ verCmd: 0x20, fam, addr, tlvs: [tlv(0x01, enc("h2"))] }));
      assert.equal(h.command, "LOCAL");
      assert.equal(h.family, family);
      assert.equal(h.sourceAddress, null);
      assert.equal(h.sourcePort, null);
      assert.equal(h.destinationAddress, null);
      assert.equal(h.destinationPort, null);
      assert.equal(h.alpn, "h2");
      assert.equal(h.headerLength, 16 + addr.length + 5);
      // A LOCAL header may also carry no address block at all.
      const bare = parsed(v2({ verCmd: 0x20, fam }));
      assert.equal(bare.headerLength, 16);
      assert.equal(bare.sourceAddress, null);
    }
  });

  test("a length too short for the address block", () => {
    rejects(v2({ fam: 0x11, addr: INET_ADDR.subarray(0, 11) }), "TAKO_ERR_PROXY_BAD_ADDRESS");
    rejects(v2({ fam: 0x21, addr: INET6_ADDR.subarray(0, 35) }), "TAKO_ERR_PROXY_BAD_ADDRESS");
    rejects(v2({ fam: 0x31, addr: new Uint8Array(215) }), "TAKO_ERR_PROXY_BAD_ADDRESS");
    rejects(v2({ fam: 0x11 }), "TAKO_ERR_PROXY_BAD_ADDRESS");
    rejects(v2({ verCmd: 0x20, fam: 0x21, addr: new Uint8Array(12) }), "TAKO_ERR_PROXY_BAD_ADDRESS");
    // Known from the 16 fixed bytes alone: no waiting for the rest.
    rejects(v2({ fam: 0x21, addr: new Uint8Array(12) }).subarray(0, 16), "TAKO_ERR_PROXY_BAD_ADDRESS");
  });
});

describe("v2 malformed", () => {
  test("unknown version", () => {
    for (const verCmd of [0x01, 0x11, 0x31, 0xf1, 0x00]) rejects(v2({ verCmd, addr: INET_ADDR }), "TAKO_ERR_PROXY_BAD_VERSION");
    // Known from byte 13 alone.
    rejects(concat(PROXY_V2_SIGNATURE, Uint8Array.of(0x11)), "TAKO_ERR_PROXY_BAD_VERSION");
  });

  test("unknown command", () => {
    for (const verCmd of [0x22, 0x23, 0x2f]) rejects(v2({ verCmd, addr: INET_ADDR }), "TAKO_ERR_PROXY_BAD_COMMAND");
    rejects(concat(PROXY_V2_SIGNATURE, Uint8Array.of(0x2f)), "TAKO_ERR_PROXY_BAD_COMMAND");
  });

  test("family/transport bytes the spec does not list", () => {
    for (const fam of [0x01, 0x02, 0x03, 0x10, 0x13, 0x20, 0x23, 0x30, 0x33, 0x41, 0x40, 0xff]) {
      rejects(v2({ fam, addr: new Uint8Array(216) }), "TAKO_ERR_PROXY_BAD_FAMILY");
      rejects(v2({ verCmd: 0x20, fam }), "TAKO_ERR_PROXY_BAD_FAMILY");
    }
    rejects(concat(PROXY_V2_SIGNATURE, Uint8Array.of(0x21, 0x14)), "TAKO_ERR_PROXY_BAD_FAMILY");
  });

  test("an advertised length over the cap is rejected from the 16 fixed bytes alone", () => {
    const at = (n: number): Uint8Array => concat(PROXY_V2_SIGNATURE, Uint8Array.of(0x21, 0x11), u16(n));
    rejects(at(PROXY_V2_MAX_ADDRESS_BYTES + 1), "TAKO_ERR_PROXY_TOO_LONG");
    rejects(at(0xffff), "TAKO_ERR_PROXY_TOO_LONG");
    assert.deepEqual(parseProxyHeader(at(PROXY_V2_MAX_ADDRESS_BYTES)), { done: false, need: PROXY_V2_MAX_ADDRESS_BYTES });
    // Right at the cap, a complete header is accepted.
    const fill = PROXY_V2_MAX_ADDRESS_BYTES - 12 - 3;
    const h = parsed(v2({ addr: INET_ADDR, tlvs: [tlv(0xe0, new Uint8Array(fill))] }));
    assert.equal(h.headerLength, 16 + PROXY_V2_MAX_ADDRESS_BYTES);
  });

  test("truncated at every length: done:false, and need never overshoots", () => {
    const headers = [
      v2({ addr: INET_ADDR }),
      v2({ fam: 0x21, addr: INET6_ADDR, tlvs: [tlv(0x01, enc("h2"))], crc: "good" }),
      v2({ fam: 0x31, addr: unixAddr("/a", "/b"), tlvs: [tlv(0x20, concat(hex("01 00000000"), tlv(0x21, enc("TLSv1.3"))))] }),
      v2({ verCmd: 0x20, fam: 0x00 }),
      v2({ fam: 0x00, tlvs: [tlv(0x05, enc("x"))] }),
    ];
    for (const bytes of headers) {
      assertEveryPrefixIncomplete(bytes, bytes.length);
      assertFeedLandsExactly(bytes, bytes.length);
    }
  });

  test("a truncated header with a bad CRC is incomplete, not wrong, until the bytes arrive", () => {
    const bytes = v2({ addr: INET_ADDR, crc: "bad" });
    assertEveryPrefixIncomplete(bytes, bytes.length);
    rejects(bytes, "TAKO_ERR_PROXY_BAD_CRC");
  });

  test("extra bytes after the header are neither counted nor touched", () => {
    const header = v2({ addr: INET_ADDR, tlvs: [tlv(0x01, enc("h2"))], crc: "good" });
    for (const extra of [enc("GET / HTTP/1.1\r\n"), hex("16030100"), hex("01"), PROXY_V2_SIGNATURE]) {
      const bytes = concat(header, extra);
      const copy = bytes.slice();
      const h = parsed(bytes);
      assert.equal(h.headerLength, header.length);
      assert.equal(h.crc32cVerified, true);
      assert.deepEqual(bytes, copy);
    }
  });
});
