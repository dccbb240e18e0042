// The PROXY protocol v2 TLVs: every kind the parser decodes, CRC32C, SSL sub-TLVs, malformed TLVs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { crc32c } from "../../../src/core/proxy-protocol/index.ts";
import { enc, hex, concat, tlv, v2, INET_ADDR, INET6_ADDR, parsed, rejects } from "./_helpers.ts";

describe("v2 TLVs", () => {
  test("ALPN and authority", () => {
    const h = parsed(v2({ addr: INET_ADDR, tlvs: [tlv(0x01, enc("h2")), tlv(0x02, enc("api.example.com"))] }));
    assert.equal(h.alpn, "h2");
    assert.equal(h.authority, "api.example.com");
    assert.deepEqual(h.tlvs, [
      { type: 0x01, value: enc("h2") },
      { type: 0x02, value: enc("api.example.com") },
    ]);
  });

  test("text is UTF-8, with invalid sequences replaced rather than rejected", () => {
    const h = parsed(v2({ addr: INET_ADDR, tlvs: [tlv(0x02, enc("bücher.example")), tlv(0x01, hex("68ff32"))] }));
    assert.equal(h.authority, "bücher.example");
    assert.equal(h.alpn, "h\ufffd2");
    const bom = parsed(v2({ addr: INET_ADDR, tlvs: [tlv(0x02, hex("efbbbf61"))] }));
    assert.equal(bom.authority, "\ufeffa");
  });

  test("empty values", () => {
    const h = parsed(v2({ addr: INET_ADDR, tlvs: [tlv(0x01, new Uint8Array(0)), tlv(0x05, new Uint8Array(0))] }));
    assert.equal(h.alpn, "");
    assert.deepEqual(h.uniqueId, new Uint8Array(0));
  });

  test("CRC32C: right", () => {
    const bytes = v2({ addr: INET_ADDR, tlvs: [tlv(0x01, enc("h2"))], crc: "good" });
    const h = parsed(bytes);
    assert.equal(h.crc32cVerified, true);
    assert.equal(h.tlvs.at(-1)?.type, 0x03);
    assert.deepEqual(h.tlvs.at(-1)?.value, bytes.subarray(bytes.length - 4));
    assert.equal(parsed(v2({ fam: 0x00, crc: "good" })).crc32cVerified, true);
    assert.equal(parsed(v2({ verCmd: 0x20, fam: 0x00, crc: "good" })).crc32cVerified, true);
  });

  test("CRC32C: a literal vector", () => {
    // PROXY TCP4 127.0.0.1:1 → 127.0.0.1:2 with a CRC32C TLV, the checksum computed by hand below.
    const zeroed = hex("0d0a0d0a000d0a515549540a 21 11 0013 7f000001 7f000001 0001 0002 03 0004 00000000");
    const sum = crc32c(zeroed);
    const bytes = zeroed.slice();
    new DataView(bytes.buffer).setUint32(bytes.length - 4, sum);
    assert.equal(parsed(bytes).crc32cVerified, true);
  });

  test("CRC32C: wrong is rejected by default, flagged on request", () => {
    const bytes = v2({ addr: INET_ADDR, tlvs: [tlv(0x02, enc("example.com"))], crc: "bad" });
    rejects(bytes, "TAKO_ERR_PROXY_BAD_CRC");
    rejects(bytes, "TAKO_ERR_PROXY_BAD_CRC", { onBadCrc: "reject" });
    const h = parsed(bytes, { onBadCrc: "flag" });
    assert.equal(h.crc32cVerified, false);
    assert.equal(h.authority, "example.com");
    assert.equal(h.sourceAddress, "192.168.0.1");
  });

  test("CRC32C: any changed byte is caught", () => {
    const good = v2({ addr: INET_ADDR, tlvs: [tlv(0x01, enc("h2"))], crc: "good" });
    // Addresses, ports, a TLV type, the ALPN value, the checksum itself (not the TLV lengths: those break the framing first).
    for (const at of [16, 20, 26, 27, 28, 31, 32, good.length - 1]) {
      const bad = good.slice();
      bad[at] = bad[at]! ^ 0x01;
      rejects(bad, "TAKO_ERR_PROXY_BAD_CRC");
    }
  });

  test("CRC32C: absent means undefined", () => {
    assert.equal(parsed(v2({ addr: INET_ADDR })).crc32cVerified, undefined);
  });

  test("CRC32C: wrong size, or twice", () => {
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x03, new Uint8Array(3))] }), "TAKO_ERR_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x03, new Uint8Array(5))] }), "TAKO_ERR_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x03, new Uint8Array(4))], crc: "good" }), "TAKO_ERR_PROXY_BAD_TLV");
  });

  test("unique id (up to 128 bytes)", () => {
    const id = Uint8Array.from({ length: 128 }, (_, i) => i);
    const h = parsed(v2({ addr: INET_ADDR, tlvs: [tlv(0x05, id)] }));
    assert.deepEqual(h.uniqueId, id);
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x05, new Uint8Array(129))] }), "TAKO_ERR_PROXY_BAD_TLV");
  });

  test("SSL with every sub-TLV", () => {
    const subs = [
      tlv(0x21, enc("TLSv1.3")),
      tlv(0x22, enc("client.example")),
      tlv(0x23, enc("ECDHE-RSA-AES128-GCM-SHA256")),
      tlv(0x24, enc("RSA-SHA256")),
      tlv(0x25, enc("RSA2048")),
      tlv(0x99, hex("0102")),
    ];
    const value = concat(Uint8Array.of(0x07), hex("00000000"), ...subs);
    const h = parsed(v2({ fam: 0x21, addr: INET6_ADDR, tlvs: [tlv(0x20, value)] }));
    assert.deepEqual(h.ssl, {
      client: 0x07,
      verify: 0,
      version: "TLSv1.3",
      cn: "client.example",
      cipher: "ECDHE-RSA-AES128-GCM-SHA256",
      sigAlg: "RSA-SHA256",
      keyAlg: "RSA2048",
      tlvs: [
        { type: 0x21, value: enc("TLSv1.3") },
        { type: 0x22, value: enc("client.example") },
        { type: 0x23, value: enc("ECDHE-RSA-AES128-GCM-SHA256") },
        { type: 0x24, value: enc("RSA-SHA256") },
        { type: 0x25, value: enc("RSA2048") },
        { type: 0x99, value: hex("0102") },
      ],
    });
    assert.deepEqual(h.tlvs, [{ type: 0x20, value }]);
  });

  test("SSL without sub-TLVs, and a failed verification", () => {
    const h = parsed(v2({ addr: INET_ADDR, tlvs: [tlv(0x20, hex("01 ffffffff"))] }));
    assert.deepEqual(h.ssl, { client: 1, verify: 0xffffffff, version: null, cn: null, cipher: null, sigAlg: null, keyAlg: null, tlvs: [] });
  });

  test("SSL malformed", () => {
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x20, hex("01 000000"))] }), "TAKO_ERR_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x20, hex("01 00000000 21 00"))] }), "TAKO_ERR_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x20, hex("01 00000000 21 0005 544c53"))] }), "TAKO_ERR_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x20, concat(hex("01 00000000"), tlv(0x22, enc("a")), tlv(0x22, enc("b"))))] }), "TAKO_ERR_PROXY_BAD_TLV");
  });

  test("AWS VPC endpoint id (0xEA subtype 0x01)", () => {
    const h = parsed(v2({ addr: INET_ADDR, tlvs: [tlv(0xea, concat(Uint8Array.of(0x01), enc("vpce-08d2bf15fac5001c9")))] }));
    assert.equal(h.awsVpceId, "vpce-08d2bf15fac5001c9");
    // Another subtype, or an empty value, is kept raw only.
    const other = parsed(v2({ addr: INET_ADDR, tlvs: [tlv(0xea, hex("02aabb")), tlv(0xea, new Uint8Array(0))] }));
    assert.equal(other.awsVpceId, null);
    assert.equal(other.tlvs.length, 2);
  });

  test("unknown, NOOP and NETNS TLVs are kept raw, in order", () => {
    const h = parsed(v2({ addr: INET_ADDR, tlvs: [tlv(0xe5, hex("deadbeef")), tlv(0x04, new Uint8Array(3)), tlv(0x30, enc("ns1")), tlv(0x01, enc("http/1.1"))] }));
    assert.deepEqual(h.tlvs, [
      { type: 0xe5, value: hex("deadbeef") },
      { type: 0x04, value: new Uint8Array(3) },
      { type: 0x30, value: enc("ns1") },
      { type: 0x01, value: enc("http/1.1") },
    ]);
    assert.equal(h.alpn, "http/1.1");
  });

  test("every kind at once", () => {
    const ssl = concat(hex("01 00000000"), tlv(0x21, enc("TLSv1.2")));
    const h = parsed(
      v2({
        fam: 0x21,
        addr: INET6_ADDR,
        tlvs: [
          tlv(0x01, enc("h2")),
          tlv(0x02, enc("example.com")),
          tlv(0x05, enc("id-1")),
          tlv(0x20, ssl),
          tlv(0xea, concat(Uint8Array.of(1), enc("vpce-1"))),
          tlv(0xf0, hex("00")),
        ],
        crc: "good",
      }),
    );
    assert.equal(h.alpn, "h2");
    assert.equal(h.authority, "example.com");
    assert.deepEqual(h.uniqueId, enc("id-1"));
    assert.equal(h.ssl?.version, "TLSv1.2");
    assert.equal(h.awsVpceId, "vpce-1");
    assert.equal(h.crc32cVerified, true);
    assert.deepEqual(
      h.tlvs.map((t) => t.type),
      [0x01, 0x02, 0x05, 0x20, 0xea, 0xf0, 0x03],
    );
  });

  test("TLVs must exactly fill the header", () => {
    rejects(v2({ addr: INET_ADDR, tlvs: [hex("01")] }), "TAKO_ERR_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [hex("0100")] }), "TAKO_ERR_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [hex("010003 6832")] }), "TAKO_ERR_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x01, enc("h2")), hex("0000")] }), "TAKO_ERR_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [hex("01ffff")] }), "TAKO_ERR_PROXY_BAD_TLV");
  });

  test("repeated decoded TLVs are ambiguous and rejected", () => {
    for (const type of [0x01, 0x02, 0x05]) {
      rejects(v2({ addr: INET_ADDR, tlvs: [tlv(type, enc("a")), tlv(type, enc("b"))] }), "TAKO_ERR_PROXY_BAD_TLV");
    }
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x20, hex("0000000000")), tlv(0x20, hex("0000000000"))] }), "TAKO_ERR_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0xea, hex("0161")), tlv(0xea, hex("0162"))] }), "TAKO_ERR_PROXY_BAD_TLV");
    // Unknown ones may repeat.
    assert.equal(parsed(v2({ addr: INET_ADDR, tlvs: [tlv(0xe0, enc("a")), tlv(0xe0, enc("b"))] })).tlvs.length, 2);
  });

  test("values are copies: reusing the input does not change the header", () => {
    const bytes = v2({ addr: INET_ADDR, tlvs: [tlv(0x05, enc("abc")), tlv(0xe1, enc("xyz"))] });
    const h = parsed(bytes);
    bytes.fill(0);
    assert.deepEqual(h.uniqueId, enc("abc"));
    assert.deepEqual(h.tlvs[1]?.value, enc("xyz"));
    assert.ok(Object.isFrozen(h));
    assert.ok(Object.isFrozen(h.tlvs));
  });
});
