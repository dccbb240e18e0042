// The PROXY parser's constants and its signature check: v1 or v2, or rejected on the first wrong
// byte, and mayBeProxyHeader for the optional mode.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mayBeProxyHeader, parseProxyHeader, PROXY_V1_MAX, PROXY_V2_MAX_ADDRESS_BYTES, PROXY_V2_SIGNATURE } from "../../../src/core/proxy-protocol/index.ts";
import { enc, hex, concat, v2, INET_ADDR, parsed, rejects } from "./_helpers.ts";

describe("constants", () => {
  test("the v2 signature, the v1 maximum and the v2 cap", () => {
    assert.deepEqual(PROXY_V2_SIGNATURE, hex("0d0a0d0a000d0a515549540a"));
    assert.deepEqual(PROXY_V2_SIGNATURE, enc("\r\n\r\n\0\r\nQUIT\n"));
    assert.equal(PROXY_V1_MAX, 107);
    assert.equal(PROXY_V2_MAX_ADDRESS_BYTES, 536);
  });

  test("scribbling on the exported signature does not change parsing", () => {
    const header = v2({ addr: INET_ADDR });
    PROXY_V2_SIGNATURE[11] = 0x00;
    try {
      assert.equal(parsed(header).sourceAddress, "192.168.0.1");
    } finally {
      PROXY_V2_SIGNATURE[11] = 0x0a;
    }
  });
});

describe("signature", () => {
  test("anything else is rejected on its first wrong byte", () => {
    for (const bytes of [
      enc("GET / HTTP/1.1\r\n\r\n"),
      enc("G"),
      enc("PRI * HTTP/2.0\r\n"),
      enc("PROXX"),
      enc("POST"),
      enc("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
      enc("PROXY\tTCP4"),
      enc("PROXY\r\n"),
      hex("16030100"),
      hex("0d0a0d0a000d0a515549540b"),
      hex("0d0a0d0a01"),
      hex("0d0d"),
      hex("00"),
    ]) {
      rejects(bytes, "TAKO_ERR_PROXY_BAD_SIGNATURE");
    }
  });

  test("prefixes of either signature wait for more", () => {
    assert.deepEqual(parseProxyHeader(new Uint8Array(0)), { done: false, need: 15 });
    assert.deepEqual(parseProxyHeader(enc("P")), { done: false, need: 14 });
    assert.deepEqual(parseProxyHeader(enc("PROXY ")), { done: false, need: 9 });
    assert.deepEqual(parseProxyHeader(hex("0d")), { done: false, need: 15 });
    assert.deepEqual(parseProxyHeader(PROXY_V2_SIGNATURE), { done: false, need: 4 });
  });

  test("mayBeProxyHeader", () => {
    for (const yes of [
      new Uint8Array(0),
      enc("P"),
      enc("PROXY"),
      enc("PROXY "),
      enc("PROXY TCP4 1.2.3.4"),
      enc("PROXY garbage"),
      hex("0d"),
      hex("0d0a0d0a00"),
      PROXY_V2_SIGNATURE,
      concat(PROXY_V2_SIGNATURE, hex("ffff")),
    ]) {
      assert.equal(mayBeProxyHeader(yes), true, JSON.stringify(Array.from(yes)));
    }
    for (const no of [enc("GET / HTTP/1.1"), enc("PO"), enc("PUT"), enc("PRI * HTTP/2.0"), enc("PROXY\t"), hex("16030100"), hex("0d0a0d0a0d"), hex("0a"), enc("proxy ")]) {
      assert.equal(mayBeProxyHeader(no), false, JSON.stringify(Array.from(no)));
    }
  });
});
