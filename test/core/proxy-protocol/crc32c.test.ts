// CRC-32C known answers (the checksum the PROXY v2 CRC32C TLV carries).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { crc32c } from "../../../src/core/proxy-protocol/index.ts";
import { enc, concat } from "./_helpers.ts";

describe("crc32c", () => {
  test("known answers (CRC-32C check value, RFC 3720 B.4 vectors)", () => {
    assert.equal(crc32c(enc("123456789")), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
    assert.equal(crc32c(enc("a")), 0xc1d04330);
  });

  test("unsigned, and independent of the view's offset", () => {
    const big = concat(enc("xx"), enc("123456789"), enc("yy"));
    assert.equal(crc32c(big.subarray(2, 11)), 0xe3069283);
    assert.ok(crc32c(enc("123456789")) > 0x7fffffff);
  });
});
