// The PROXY protocol parser (src/core/proxy-protocol/): byte vectors for v1 and v2, every TLV kind,
// every malformed case, CRC32C known answers, and property-based checks with fast-check.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  crc32c,
  mayBeProxyHeader,
  parseProxyHeader,
  PROXY_V1_MAX,
  PROXY_V2_MAX_ADDRESS_BYTES,
  PROXY_V2_SIGNATURE,
  ProxyProtocolError,
  type ParseOptions,
  type ProxyHeader,
  type ProxyProtocolErrorCode,
} from "../../src/core/proxy-protocol/index.ts";

// ----------------------------------------------------------------------------------------------
// Helpers

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Bytes from hex, spaces ignored. */
function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  assert.equal(clean.length % 2, 0, "odd hex");
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff);
}

function tlv(type: number, value: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(type), u16(value.length), value);
}

interface V2Spec {
  readonly verCmd?: number;
  readonly fam?: number;
  readonly addr?: Uint8Array;
  readonly tlvs?: readonly Uint8Array[];
  /** Append a CRC32C TLV: "good" fills in the right checksum, "bad" a wrong one. */
  readonly crc?: "good" | "bad";
  /** Overrides the length field. */
  readonly length?: number;
}

/** A v2 header built from parts (a test-side encoder, independent of the parser). */
function v2(spec: V2Spec): Uint8Array {
  const crcTlv = spec.crc === undefined ? new Uint8Array(0) : tlv(0x03, new Uint8Array(4));
  const body = concat(spec.addr ?? new Uint8Array(0), ...(spec.tlvs ?? []), crcTlv);
  const out = concat(PROXY_V2_SIGNATURE, Uint8Array.of(spec.verCmd ?? 0x21, spec.fam ?? 0x11), u16(spec.length ?? body.length), body);
  if (spec.crc !== undefined) {
    const sum = (crc32c(out) ^ (spec.crc === "bad" ? 1 : 0)) >>> 0;
    const at = out.length - 4;
    out[at] = sum >>> 24;
    out[at + 1] = (sum >>> 16) & 0xff;
    out[at + 2] = (sum >>> 8) & 0xff;
    out[at + 3] = sum & 0xff;
  }
  return out;
}

const INET_ADDR = hex("c0a80001 0a000002 d204 01bb"); // 192.168.0.1 → 10.0.0.2, 53764 → 443
const INET6_ADDR = hex("20010db8000000000000000000000001 fe800000000000000000000000000000 0050 1f90");
function unixAddr(src: string, dst: string): Uint8Array {
  const out = new Uint8Array(216);
  out.set(enc(src), 0);
  out.set(enc(dst), 108);
  return out;
}

function parsed(bytes: Uint8Array, options?: ParseOptions): ProxyHeader {
  const r = parseProxyHeader(bytes, options);
  assert.ok(r.done, `expected a complete header, got need ${r.done ? "" : r.need}`);
  return r.header;
}

function rejects(bytes: Uint8Array, code: ProxyProtocolErrorCode, options?: ParseOptions): void {
  assert.throws(
    () => parseProxyHeader(bytes, options),
    (e: unknown) => {
      assert.ok(e instanceof ProxyProtocolError, `expected ProxyProtocolError, got ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.equal(e.name, "ProxyProtocolError");
      return true;
    },
  );
}

/** Every strict prefix of a valid header answers done:false with a `need` that never overshoots. */
function assertEveryPrefixIncomplete(bytes: Uint8Array, total: number): void {
  for (let k = 0; k < total; k++) {
    const r = parseProxyHeader(bytes.subarray(0, k));
    assert.equal(r.done, false, `prefix of ${k}/${total} bytes`);
    if (!r.done) assert.ok(r.need >= 1 && r.need <= total - k, `need ${r.need} at ${k}/${total}`);
  }
}

/** Feeds the header `need` bytes at a time, as a reader would: it must land exactly on the header's end. */
function assertFeedLandsExactly(bytes: Uint8Array, total: number): void {
  let have = 0;
  for (;;) {
    const r = parseProxyHeader(bytes.subarray(0, have));
    if (r.done) {
      assert.equal(r.header.headerLength, total);
      assert.equal(have, total);
      return;
    }
    have += r.need;
    assert.ok(have <= total, `overshot: asked for ${have} of ${total}`);
  }
}

const BASE: Omit<ProxyHeader, "version" | "command" | "family" | "transport" | "sourceAddress" | "sourcePort" | "destinationAddress" | "destinationPort" | "headerLength"> = {
  alpn: null,
  authority: null,
  uniqueId: null,
  crc32cVerified: undefined,
  ssl: null,
  awsVpceId: null,
  tlvs: [],
};

// ----------------------------------------------------------------------------------------------
// Constants and CRC32C

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

// ----------------------------------------------------------------------------------------------
// Version 1

describe("v1", () => {
  test("TCP4", () => {
    const line = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
    assert.deepEqual(parsed(enc(line)), {
      ...BASE,
      version: 1,
      command: "PROXY",
      family: "TCP4",
      transport: "STREAM",
      sourceAddress: "192.168.0.1",
      sourcePort: 56324,
      destinationAddress: "192.168.0.11",
      destinationPort: 443,
      headerLength: line.length,
    });
  });

  test("TCP4 extremes: 0.0.0.0, 255.255.255.255, ports 0 and 65535 (56 bytes)", () => {
    const line = "PROXY TCP4 255.255.255.255 0.0.0.0 65535 0\r\n";
    const h = parsed(enc(line));
    assert.equal(h.sourceAddress, "255.255.255.255");
    assert.equal(h.destinationAddress, "0.0.0.0");
    assert.equal(h.sourcePort, 65535);
    assert.equal(h.destinationPort, 0);
    assert.equal(h.headerLength, line.length);
  });

  test("TCP6, normalised to the compressed lower-case form", () => {
    const cases: [input: string, normal: string][] = [
      ["2001:db8::1", "2001:db8::1"],
      ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first of two equal runs
      ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group stays
      ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // the longest run wins
      ["::", "::"],
      ["::1", "::1"],
      ["1::", "1::"],
      ["FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
      ["fe80::0001:0:0:0", "fe80::1:0:0:0"], // equal runs of three: the first one
      ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
      ["::FFFF:c000:0201", "::ffff:192.0.2.1"],
      ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ];
    for (const [input, normal] of cases) {
      const h = parsed(enc(`PROXY TCP6 ${input} ${input} 1 2\r\n`));
      assert.equal(h.family, "TCP6", input);
      assert.equal(h.sourceAddress, normal, input);
      assert.equal(h.destinationAddress, normal, input);
    }
  });

  test("TCP6 at full length (104 bytes)", () => {
    const a = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const line = `PROXY TCP6 ${a} ${a} 65535 65535\r\n`;
    assert.equal(line.length, 104);
    assert.equal(parsed(enc(line)).headerLength, 104);
  });

  test("UNKNOWN, short form", () => {
    assert.deepEqual(parsed(enc("PROXY UNKNOWN\r\n")), {
      ...BASE,
      version: 1,
      command: "PROXY",
      family: "UNSPEC",
      transport: "UNSPEC",
      sourceAddress: null,
      sourcePort: null,
      destinationAddress: null,
      destinationPort: null,
      headerLength: 15,
    });
  });

  test("UNKNOWN ignores whatever follows it before CRLF", () => {
    for (const rest of [" 1.2.3.4 5.6.7.8 1 2", " anything  at all", " ", " \x00\xff"]) {
      const bytes = concat(enc("PROXY UNKNOWN"), Uint8Array.from(rest, (c) => c.charCodeAt(0)), enc("\r\n"));
      const h = parsed(bytes);
      assert.equal(h.family, "UNSPEC");
      assert.equal(h.sourceAddress, null);
      assert.equal(h.headerLength, bytes.length);
    }
  });

  test("the worst case of 107 bytes is accepted; 108 is rejected", () => {
    const a = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const line = `PROXY UNKNOWN ${a} ${a} 65535 65535\r\n`;
    assert.equal(line.length, 107);
    assert.equal(parsed(enc(line)).headerLength, 107);
    rejects(enc(`PROXY UNKNOWN ${a} ${a} 65535 655355\r\n`), "TAKO_PROXY_TOO_LONG");
    rejects(enc(`PROXY UNKNOWN ${a} ${a} 65535 655355\r`), "TAKO_PROXY_TOO_LONG");
  });

  test("over 107 bytes without CRLF is rejected without waiting for more", () => {
    // 105 bytes without CR can still end at 107; 106 cannot (CRLF would make it 108).
    assert.deepEqual(parseProxyHeader(enc(`PROXY UNKNOWN ${"x".repeat(91)}`)), { done: false, need: 2 });
    rejects(enc(`PROXY UNKNOWN ${"x".repeat(92)}`), "TAKO_PROXY_TOO_LONG");
    rejects(enc(`PROXY UNKNOWN ${"x".repeat(93)}`), "TAKO_PROXY_TOO_LONG");
    rejects(enc(`PROXY UNKNOWN ${"x".repeat(200)}\r\n`), "TAKO_PROXY_TOO_LONG");
  });

  test("LF without CR, and CR without LF, are rejected", () => {
    rejects(enc("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), "TAKO_PROXY_V1_SYNTAX");
    rejects(enc("PROXY UNKNOWN\n"), "TAKO_PROXY_V1_SYNTAX");
    rejects(enc("PROXY UNKNOWN\nfoo\r\n"), "TAKO_PROXY_V1_SYNTAX");
    rejects(enc("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"), "TAKO_PROXY_V1_SYNTAX");
    rejects(enc("PROXY UNKNOWN\r\r\n"), "TAKO_PROXY_V1_SYNTAX");
    rejects(enc("PROXY TCP4 1.2.3.4\n"), "TAKO_PROXY_V1_SYNTAX");
  });

  test("garbage in each field", () => {
    const cases: [line: string, code: ProxyProtocolErrorCode][] = [
      // the protocol
      ["PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_FAMILY"],
      ["PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_FAMILY"],
      ["PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_FAMILY"],
      ["PROXY UNKNOWNX\r\n", "TAKO_PROXY_BAD_FAMILY"],
      ["PROXY \r\n", "TAKO_PROXY_BAD_FAMILY"],
      ["PROXY TCP\r\n", "TAKO_PROXY_BAD_FAMILY"],
      // spacing and field count
      ["PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_FAMILY"],
      ["PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "TAKO_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", "TAKO_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "TAKO_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "TAKO_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "TAKO_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8\r\n", "TAKO_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4\r\n", "TAKO_PROXY_V1_SYNTAX"],
      ["PROXY TCP4\r\n", "TAKO_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 \r\n", "TAKO_PROXY_V1_SYNTAX"],
      ["PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_FAMILY"],
      // source address
      ["PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 localhost 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 0x7f.0.0.1 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 -1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      // destination address
      ["PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3.4 5.6.7.999 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3.4 2001:db8::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      // IPv6 addresses
      ["PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::1 1.2.3.4 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 1::2::3 ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 :::1 ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 :1 ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 1: ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 12345::1 ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 1:2:3:4:5:6:7:8:: ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 g::1 ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::1%eth0 ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 [::1] ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::ffff:1.2.3.04 ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::1.2.3.4:1 ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 1:2:3:4:5:6:7:1.2.3.4 ::1 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::1 : 1 2\r\n", "TAKO_PROXY_BAD_ADDRESS"],
      // ports
      ["PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "TAKO_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "TAKO_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n", "TAKO_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "TAKO_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "TAKO_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n", "TAKO_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 http 2\r\n", "TAKO_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", "TAKO_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 080\r\n", "TAKO_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 1e3\r\n", "TAKO_PROXY_BAD_PORT"],
      ["PROXY TCP6 ::1 ::2 1 123456\r\n", "TAKO_PROXY_BAD_PORT"],
    ];
    for (const [line, code] of cases) {
      try {
        rejects(enc(line), code);
      } catch (e) {
        throw new Error(`${JSON.stringify(line)}: ${(e as Error).message}`);
      }
    }
  });

  test("garbage is rejected as soon as it arrives, before the CRLF", () => {
    const cases: [partial: string, code: ProxyProtocolErrorCode][] = [
      ["PROXY X", "TAKO_PROXY_BAD_FAMILY"],
      ["PROXY TCP4X", "TAKO_PROXY_BAD_FAMILY"],
      ["PROXY TCP4  ", "TAKO_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.256", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 01", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3.4.", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3 ", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::1::", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 12345", "TAKO_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::1 ::1 70000", "TAKO_PROXY_BAD_PORT"],
      ["PROXY TCP6 ::1 ::1 0", "no error"],
      ["PROXY TCP6 ::1 ::1 00", "TAKO_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ", "TAKO_PROXY_V1_SYNTAX"],
    ] as [string, ProxyProtocolErrorCode][];
    for (const [partial, code] of cases) {
      if ((code as string) === "no error") assert.equal(parseProxyHeader(enc(partial)).done, false);
      else rejects(enc(partial), code);
    }
  });

  test("a truncated header answers done:false at every length, and need never overshoots", () => {
    const a = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    for (const line of [
      "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
      "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n",
      "PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 1 65535\r\n",
      "PROXY TCP6 :: :: 0 0\r\n",
      "PROXY UNKNOWN\r\n",
      `PROXY UNKNOWN ${a} ${a} 65535 65535\r\n`,
    ]) {
      assertEveryPrefixIncomplete(enc(line), line.length);
      assertFeedLandsExactly(enc(line), line.length);
    }
  });

  test("extra bytes after the header are neither counted nor touched", () => {
    const line = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
    for (const extra of ["GET / HTTP/1.1\r\n\r\n", "\n", "\r\n", "PROXY TCP4 garbage\n", "\x00\xff"]) {
      const bytes = concat(enc(line), Uint8Array.from(extra, (c) => c.charCodeAt(0)));
      const copy = bytes.slice();
      assert.equal(parsed(bytes).headerLength, line.length, JSON.stringify(extra));
      assert.deepEqual(bytes, copy);
    }
    // The line end is the first CRLF: a second header is the next protocol's business.
    assert.equal(parsed(enc("PROXY UNKNOWN\r\nPROXY UNKNOWN\r\n")).headerLength, 15);
  });
});

// ----------------------------------------------------------------------------------------------
// Version 2

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
    for (const [fam, transport] of [[0x21, "STREAM"], [0x22, "DGRAM"]] as const) {
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
    for (const [fam, transport] of [[0x31, "STREAM"], [0x32, "DGRAM"]] as const) {
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
    rejects(v2({ fam: 0x11, addr: INET_ADDR.subarray(0, 11) }), "TAKO_PROXY_BAD_ADDRESS");
    rejects(v2({ fam: 0x21, addr: INET6_ADDR.subarray(0, 35) }), "TAKO_PROXY_BAD_ADDRESS");
    rejects(v2({ fam: 0x31, addr: new Uint8Array(215) }), "TAKO_PROXY_BAD_ADDRESS");
    rejects(v2({ fam: 0x11 }), "TAKO_PROXY_BAD_ADDRESS");
    rejects(v2({ verCmd: 0x20, fam: 0x21, addr: new Uint8Array(12) }), "TAKO_PROXY_BAD_ADDRESS");
    // Known from the 16 fixed bytes alone: no waiting for the rest.
    rejects(v2({ fam: 0x21, addr: new Uint8Array(12) }).subarray(0, 16), "TAKO_PROXY_BAD_ADDRESS");
  });
});

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
    rejects(bytes, "TAKO_PROXY_BAD_CRC");
    rejects(bytes, "TAKO_PROXY_BAD_CRC", { onBadCrc: "reject" });
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
      rejects(bad, "TAKO_PROXY_BAD_CRC");
    }
  });

  test("CRC32C: absent means undefined", () => {
    assert.equal(parsed(v2({ addr: INET_ADDR })).crc32cVerified, undefined);
  });

  test("CRC32C: wrong size, or twice", () => {
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x03, new Uint8Array(3))] }), "TAKO_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x03, new Uint8Array(5))] }), "TAKO_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x03, new Uint8Array(4))], crc: "good" }), "TAKO_PROXY_BAD_TLV");
  });

  test("unique id (up to 128 bytes)", () => {
    const id = Uint8Array.from({ length: 128 }, (_, i) => i);
    const h = parsed(v2({ addr: INET_ADDR, tlvs: [tlv(0x05, id)] }));
    assert.deepEqual(h.uniqueId, id);
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x05, new Uint8Array(129))] }), "TAKO_PROXY_BAD_TLV");
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
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x20, hex("01 000000"))] }), "TAKO_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x20, hex("01 00000000 21 00"))] }), "TAKO_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x20, hex("01 00000000 21 0005 544c53"))] }), "TAKO_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x20, concat(hex("01 00000000"), tlv(0x22, enc("a")), tlv(0x22, enc("b"))))] }), "TAKO_PROXY_BAD_TLV");
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
        tlvs: [tlv(0x01, enc("h2")), tlv(0x02, enc("example.com")), tlv(0x05, enc("id-1")), tlv(0x20, ssl), tlv(0xea, concat(Uint8Array.of(1), enc("vpce-1"))), tlv(0xf0, hex("00"))],
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
    rejects(v2({ addr: INET_ADDR, tlvs: [hex("01")] }), "TAKO_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [hex("0100")] }), "TAKO_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [hex("010003 6832")] }), "TAKO_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x01, enc("h2")), hex("0000")] }), "TAKO_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [hex("01ffff")] }), "TAKO_PROXY_BAD_TLV");
  });

  test("repeated decoded TLVs are ambiguous and rejected", () => {
    for (const type of [0x01, 0x02, 0x05]) {
      rejects(v2({ addr: INET_ADDR, tlvs: [tlv(type, enc("a")), tlv(type, enc("b"))] }), "TAKO_PROXY_BAD_TLV");
    }
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0x20, hex("0000000000")), tlv(0x20, hex("0000000000"))] }), "TAKO_PROXY_BAD_TLV");
    rejects(v2({ addr: INET_ADDR, tlvs: [tlv(0xea, hex("0161")), tlv(0xea, hex("0162"))] }), "TAKO_PROXY_BAD_TLV");
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

describe("v2 malformed", () => {
  test("unknown version", () => {
    for (const verCmd of [0x01, 0x11, 0x31, 0xf1, 0x00]) rejects(v2({ verCmd, addr: INET_ADDR }), "TAKO_PROXY_BAD_VERSION");
    // Known from byte 13 alone.
    rejects(concat(PROXY_V2_SIGNATURE, Uint8Array.of(0x11)), "TAKO_PROXY_BAD_VERSION");
  });

  test("unknown command", () => {
    for (const verCmd of [0x22, 0x23, 0x2f]) rejects(v2({ verCmd, addr: INET_ADDR }), "TAKO_PROXY_BAD_COMMAND");
    rejects(concat(PROXY_V2_SIGNATURE, Uint8Array.of(0x2f)), "TAKO_PROXY_BAD_COMMAND");
  });

  test("family/transport bytes the spec does not list", () => {
    for (const fam of [0x01, 0x02, 0x03, 0x10, 0x13, 0x20, 0x23, 0x30, 0x33, 0x41, 0x40, 0xff]) {
      rejects(v2({ fam, addr: new Uint8Array(216) }), "TAKO_PROXY_BAD_FAMILY");
      rejects(v2({ verCmd: 0x20, fam }), "TAKO_PROXY_BAD_FAMILY");
    }
    rejects(concat(PROXY_V2_SIGNATURE, Uint8Array.of(0x21, 0x14)), "TAKO_PROXY_BAD_FAMILY");
  });

  test("an advertised length over the cap is rejected from the 16 fixed bytes alone", () => {
    const at = (n: number): Uint8Array => concat(PROXY_V2_SIGNATURE, Uint8Array.of(0x21, 0x11), u16(n));
    rejects(at(PROXY_V2_MAX_ADDRESS_BYTES + 1), "TAKO_PROXY_TOO_LONG");
    rejects(at(0xffff), "TAKO_PROXY_TOO_LONG");
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
    rejects(bytes, "TAKO_PROXY_BAD_CRC");
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

// ----------------------------------------------------------------------------------------------
// Signatures

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
      rejects(bytes, "TAKO_PROXY_BAD_SIGNATURE");
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
    for (const yes of [new Uint8Array(0), enc("P"), enc("PROXY"), enc("PROXY "), enc("PROXY TCP4 1.2.3.4"), enc("PROXY garbage"), hex("0d"), hex("0d0a0d0a00"), PROXY_V2_SIGNATURE, concat(PROXY_V2_SIGNATURE, hex("ffff"))]) {
      assert.equal(mayBeProxyHeader(yes), true, JSON.stringify(Array.from(yes)));
    }
    for (const no of [enc("GET / HTTP/1.1"), enc("PO"), enc("PUT"), enc("PRI * HTTP/2.0"), enc("PROXY\t"), hex("16030100"), hex("0d0a0d0a0d"), hex("0a"), enc("proxy ")]) {
      assert.equal(mayBeProxyHeader(no), false, JSON.stringify(Array.from(no)));
    }
  });
});

// ----------------------------------------------------------------------------------------------
// Properties

const RUNS = 3000;

/** Parses and checks the invariants every answer must keep; rethrows anything but ProxyProtocolError. */
function checkedParse(bytes: Uint8Array, options?: ParseOptions): ProxyHeader | "incomplete" | ProxyProtocolError {
  const copy = bytes.slice();
  let r;
  try {
    r = parseProxyHeader(bytes, options);
  } catch (e) {
    if (e instanceof ProxyProtocolError) {
      assert.deepEqual(bytes, copy);
      return e;
    }
    throw e;
  }
  assert.deepEqual(bytes, copy, "the input was changed");
  if (!r.done) {
    assert.ok(Number.isInteger(r.need) && r.need >= 1, `need ${r.need}`);
    return "incomplete";
  }
  const h = r.header;
  assert.ok(h.headerLength >= 1 && h.headerLength <= bytes.length, `headerLength ${h.headerLength} of ${bytes.length}`);
  assert.ok(h.headerLength <= (h.version === 1 ? PROXY_V1_MAX : 16 + PROXY_V2_MAX_ADDRESS_BYTES), `headerLength ${h.headerLength} over the cap`);
  if (h.version === 1) assert.equal(h.tlvs.length, 0);
  return h;
}

/** Random bytes that start with a v2 fixed part that is mostly valid, so the fuzzing goes deep. */
const v2ish = fc
  .record({
    verCmd: fc.oneof(fc.constantFrom(0x20, 0x21), fc.integer({ min: 0, max: 255 })),
    fam: fc.oneof(fc.constantFrom(0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32), fc.integer({ min: 0, max: 255 })),
    length: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 0xffff })),
    body: fc.uint8Array({ maxLength: 600 }),
  })
  .map(({ verCmd, fam, length, body }) => concat(PROXY_V2_SIGNATURE, Uint8Array.of(verCmd, fam), u16(length), body));

/** Random text after "PROXY ", from an alphabet that makes near-misses likely. */
const v1ish = fc
  .array(fc.constantFrom(..."PROXY TCP4 TCP6 UNKNOWN 0123456789abcdefABCDEF:.. \r\n\r\n\t\x00\xff"), { maxLength: 130 })
  .map((chars) => concat(enc("PROXY "), Uint8Array.from(chars, (c) => c.charCodeAt(0))));

const ipv4Bytes = fc.uint8Array({ minLength: 4, maxLength: 4 });
const ipv6Bytes = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  // Zero-heavy addresses, to exercise `::` placement.
  fc.array(fc.constantFrom(0, 0, 0, 1, 0xff), { minLength: 16, maxLength: 16 }).map((a) => Uint8Array.from(a)),
);
const port = fc.integer({ min: 0, max: 65535 });

/** An uncompressed, randomly-cased, zero-padded text form of 16 bytes. */
function ipv6Long(b: Uint8Array, upper: boolean): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16).padStart(4, "0"));
  const s = groups.join(":");
  return upper ? s.toUpperCase() : s;
}

/** The WHATWG URL parser as an independent IPv6 normaliser (it has no `::ffff:a.b.c.d` form). */
function urlIpv6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

interface Valid {
  readonly bytes: Uint8Array;
  readonly check: (h: ProxyHeader) => void;
}

const validV1: fc.Arbitrary<Valid> = fc.oneof(
  fc.record({ s: ipv4Bytes, d: ipv4Bytes, sp: port, dp: port }).map(({ s, d, sp, dp }) => {
    const src = Array.from(s).join(".");
    const dst = Array.from(d).join(".");
    return {
      bytes: enc(`PROXY TCP4 ${src} ${dst} ${sp} ${dp}\r\n`),
      check: (h: ProxyHeader) => assert.deepEqual([h.family, h.sourceAddress, h.destinationAddress, h.sourcePort, h.destinationPort], ["TCP4", src, dst, sp, dp]),
    };
  }),
  fc.record({ s: ipv6Bytes, d: ipv6Bytes, sp: port, dp: port, upper: fc.boolean() }).map(({ s, d, sp, dp, upper }) => ({
    bytes: enc(`PROXY TCP6 ${ipv6Long(s, upper)} ${ipv6Long(d, upper)} ${sp} ${dp}\r\n`),
    check: (h: ProxyHeader) => {
      assert.equal(h.family, "TCP6");
      assert.equal(urlIpv6(h.sourceAddress!), urlIpv6(ipv6Long(s, false)));
      assert.equal(urlIpv6(h.destinationAddress!), urlIpv6(ipv6Long(d, false)));
      assert.deepEqual([h.sourcePort, h.destinationPort], [sp, dp]);
    },
  })),
  fc
    .record({ s: fc.ipV6(), d: fc.ipV6() })
    .filter(({ s, d }) => `PROXY TCP6 ${s} ${d} 1 2\r\n`.length <= PROXY_V1_MAX)
    .map(({ s, d }) => ({
    bytes: enc(`PROXY TCP6 ${s} ${d} 1 2\r\n`),
    check: (h: ProxyHeader) => {
      assert.equal(urlIpv6(h.sourceAddress!), urlIpv6(s));
      assert.equal(urlIpv6(h.destinationAddress!), urlIpv6(d));
    },
  })),
  fc.array(fc.integer({ min: 0x20, max: 0x7e }), { maxLength: 92 }).map((rest) => ({
    bytes: concat(enc("PROXY UNKNOWN"), rest.length > 0 ? Uint8Array.of(0x20, ...rest.slice(1)) : new Uint8Array(0), enc("\r\n")),
    check: (h: ProxyHeader) => assert.equal(h.family, "UNSPEC"),
  })),
);

const anyTlv = fc.oneof(
  fc.record({ type: fc.constantFrom(0x01, 0x02, 0x04, 0x30, 0xe0, 0xee, 0xf7, 0x99), value: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ type: fc.constant(0x05), value: fc.uint8Array({ maxLength: 128 }) }),
  fc.record({ type: fc.constant(0xea), value: fc.uint8Array({ maxLength: 30 }).map((v) => concat(Uint8Array.of(1), v)) }),
  fc
    .record({ client: fc.integer({ min: 0, max: 7 }), verify: fc.integer({ min: 0, max: 0xffffffff }), subs: fc.uniqueArray(fc.record({ type: fc.integer({ min: 0x21, max: 0x28 }), value: fc.uint8Array({ maxLength: 20 }) }), { selector: (s) => s.type, maxLength: 6 }) })
    .map(({ client, verify, subs }) => {
      const head = new Uint8Array(5);
      head[0] = client;
      new DataView(head.buffer).setUint32(1, verify);
      return { type: 0x20, value: concat(head, ...subs.map((s) => tlv(s.type, s.value))) };
    }),
);

const validV2: fc.Arbitrary<Valid> = fc
  .record({
    local: fc.boolean(),
    fam: fc.constantFrom(0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32),
    addr: fc.uint8Array({ minLength: 216, maxLength: 216 }),
    tlvs: fc.array(anyTlv, { maxLength: 6 }),
    crc: fc.boolean(),
  })
  .map(({ local, fam, addr, tlvs, crc }) => {
    const size = { 0x00: 0, 0x11: 12, 0x12: 12, 0x21: 36, 0x22: 36, 0x31: 216, 0x32: 216 }[fam] ?? 0;
    // Keep the whole under the cap.
    // The decoded kinds appear once at most (a repeat is rejected); the whole stays under the cap.
    const singles = new Set<number>();
    let budget = PROXY_V2_MAX_ADDRESS_BYTES - size - (crc ? 7 : 0);
    const kept = tlvs.filter((t) => {
      if ([0x01, 0x02, 0x05, 0x20, 0xea].includes(t.type)) {
        if (singles.has(t.type)) return false;
        singles.add(t.type);
      }
      return (budget -= 3 + t.value.length) >= 0;
    });
    const bytes = v2({ verCmd: local ? 0x20 : 0x21, fam, addr: addr.subarray(0, size), tlvs: kept.map((t) => tlv(t.type, t.value)), ...(crc ? { crc: "good" as const } : {}) });
    return {
      bytes,
      check: (h: ProxyHeader) => {
        assert.equal(h.version, 2);
        assert.equal(h.command, local ? "LOCAL" : "PROXY");
        assert.equal(h.crc32cVerified, crc ? true : undefined);
        assert.deepEqual(
          h.tlvs.map((t) => t.type),
          [...kept.map((t) => t.type), ...(crc ? [0x03] : [])],
        );
        if (!local && (fam === 0x11 || fam === 0x12)) assert.equal(h.sourceAddress, Array.from(addr.subarray(0, 4)).join("."));
        if (!local && (fam === 0x21 || fam === 0x22)) assert.equal(urlIpv6(h.sourceAddress!), urlIpv6(ipv6Long(addr.subarray(0, 16), false)));
        if (local || fam === 0x00) assert.equal(h.sourceAddress, null);
      },
    };
  });

const validHeader = fc.oneof(validV1, validV2);

describe("properties (fast-check)", () => {
  test("arbitrary bytes: a result or a ProxyProtocolError, within bounds", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 700 }), v2ish, v1ish), fc.constantFrom<ParseOptions | undefined>(undefined, { onBadCrc: "flag" }), (bytes, options) => {
        checkedParse(bytes, options);
      }),
      { numRuns: RUNS },
    );
  });

  test("valid headers parse to what was encoded, with any bytes after them", () => {
    fc.assert(
      fc.property(validHeader, fc.uint8Array({ maxLength: 40 }), ({ bytes, check }, extra) => {
        const h = checkedParse(concat(bytes, extra));
        assert.ok(typeof h === "object" && !(h instanceof ProxyProtocolError), String(h));
        assert.equal(h.headerLength, bytes.length);
        check(h);
      }),
      { numRuns: RUNS },
    );
  });

  test("valid headers, truncated anywhere: incomplete, never an error, need never overshoots", () => {
    fc.assert(
      fc.property(validHeader, fc.nat(), ({ bytes }, cut) => {
        const k = cut % bytes.length;
        const r = parseProxyHeader(bytes.subarray(0, k));
        assert.equal(r.done, false);
        if (!r.done) assert.ok(r.need >= 1 && r.need <= bytes.length - k);
      }),
      { numRuns: RUNS },
    );
  });

  test("valid headers with random mutations: a result or a ProxyProtocolError, within bounds", () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), value: fc.constant(0) }),
      fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(validHeader, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.constantFrom<ParseOptions | undefined>(undefined, { onBadCrc: "flag" }), ({ bytes }, mutations, options) => {
        let b = bytes;
        for (const m of mutations) {
          const at = b.length === 0 ? 0 : m.at % b.length;
          if (m.kind === "flip") {
            b = b.slice();
            if (b.length > 0) b[at] = m.value;
          } else if (m.kind === "insert") b = concat(b.subarray(0, at), Uint8Array.of(m.value), b.subarray(at));
          else if (m.kind === "delete") b = concat(b.subarray(0, at), b.subarray(at + 1));
          else b = b.subarray(0, at);
        }
        checkedParse(b, options);
      }),
      { numRuns: RUNS },
    );
  });

  test("v2 IPv6 formatting agrees with the URL parser's normalisation (and round-trips through v1)", () => {
    fc.assert(
      fc.property(ipv6Bytes, (b) => {
        const h = parsed(v2({ fam: 0x21, addr: concat(b, b, hex("00010002")) }));
        const text = h.sourceAddress!;
        const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
        if (mapped) assert.equal(text, `::ffff:${Array.from(b.subarray(12)).join(".")}`);
        else assert.equal(text, urlIpv6(ipv6Long(b, false)));
        assert.equal(text, text.toLowerCase());
        const again = parsed(enc(`PROXY TCP6 ${text} ${ipv6Long(b, true)} 1 2\r\n`));
        assert.equal(again.sourceAddress, text);
        assert.equal(again.destinationAddress, text);
      }),
      { numRuns: RUNS },
    );
  });
});
