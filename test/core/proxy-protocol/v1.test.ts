// The PROXY protocol v1 (text) parser: byte vectors, every malformed case, truncation.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseProxyHeader, type ProxyProtocolErrorCode } from "../../../src/core/proxy-protocol/index.ts";
import { enc, concat, parsed, rejects, assertEveryPrefixIncomplete, assertFeedLandsExactly, BASE } from "./_helpers.ts";

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
      const bytes = concat(
        enc("PROXY UNKNOWN"),
        Uint8Array.from(rest, (c) => c.charCodeAt(0)),
        enc("\r\n"),
      );
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
    rejects(enc(`PROXY UNKNOWN ${a} ${a} 65535 655355\r\n`), "TAKO_ERR_PROXY_TOO_LONG");
    rejects(enc(`PROXY UNKNOWN ${a} ${a} 65535 655355\r`), "TAKO_ERR_PROXY_TOO_LONG");
  });

  test("over 107 bytes without CRLF is rejected without waiting for more", () => {
    // 105 bytes without CR can still end at 107; 106 cannot (CRLF would make it 108).
    assert.deepEqual(parseProxyHeader(enc(`PROXY UNKNOWN ${"x".repeat(91)}`)), { done: false, need: 2 });
    rejects(enc(`PROXY UNKNOWN ${"x".repeat(92)}`), "TAKO_ERR_PROXY_TOO_LONG");
    rejects(enc(`PROXY UNKNOWN ${"x".repeat(93)}`), "TAKO_ERR_PROXY_TOO_LONG");
    rejects(enc(`PROXY UNKNOWN ${"x".repeat(200)}\r\n`), "TAKO_ERR_PROXY_TOO_LONG");
  });

  test("LF without CR, and CR without LF, are rejected", () => {
    rejects(enc("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), "TAKO_ERR_PROXY_V1_SYNTAX");
    rejects(enc("PROXY UNKNOWN\n"), "TAKO_ERR_PROXY_V1_SYNTAX");
    rejects(enc("PROXY UNKNOWN\nfoo\r\n"), "TAKO_ERR_PROXY_V1_SYNTAX");
    rejects(enc("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"), "TAKO_ERR_PROXY_V1_SYNTAX");
    rejects(enc("PROXY UNKNOWN\r\r\n"), "TAKO_ERR_PROXY_V1_SYNTAX");
    rejects(enc("PROXY TCP4 1.2.3.4\n"), "TAKO_ERR_PROXY_V1_SYNTAX");
  });

  test("garbage in each field", () => {
    const cases: [line: string, code: ProxyProtocolErrorCode][] = [
      // the protocol
      ["PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_FAMILY"],
      ["PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_FAMILY"],
      ["PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_FAMILY"],
      ["PROXY UNKNOWNX\r\n", "TAKO_ERR_PROXY_BAD_FAMILY"],
      ["PROXY \r\n", "TAKO_ERR_PROXY_BAD_FAMILY"],
      ["PROXY TCP\r\n", "TAKO_ERR_PROXY_BAD_FAMILY"],
      // spacing and field count
      ["PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_FAMILY"],
      ["PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", "TAKO_ERR_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "TAKO_ERR_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "TAKO_ERR_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "TAKO_ERR_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8\r\n", "TAKO_ERR_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.4\r\n", "TAKO_ERR_PROXY_V1_SYNTAX"],
      ["PROXY TCP4\r\n", "TAKO_ERR_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 \r\n", "TAKO_ERR_PROXY_V1_SYNTAX"],
      ["PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_FAMILY"],
      // source address
      ["PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 localhost 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 0x7f.0.0.1 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 -1.2.3.4 5.6.7.8 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      // destination address
      ["PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3.4 5.6.7.999 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3.4 2001:db8::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      // IPv6 addresses
      ["PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::1 1.2.3.4 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 1::2::3 ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 :::1 ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 :1 ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 1: ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 12345::1 ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 1:2:3:4:5:6:7:8:: ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 g::1 ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::1%eth0 ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 [::1] ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::ffff:1.2.3.04 ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::1.2.3.4:1 ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 1:2:3:4:5:6:7:1.2.3.4 ::1 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::1 : 1 2\r\n", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      // ports
      ["PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "TAKO_ERR_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "TAKO_ERR_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n", "TAKO_ERR_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "TAKO_ERR_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "TAKO_ERR_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n", "TAKO_ERR_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 http 2\r\n", "TAKO_ERR_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", "TAKO_ERR_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 080\r\n", "TAKO_ERR_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 1e3\r\n", "TAKO_ERR_PROXY_BAD_PORT"],
      ["PROXY TCP6 ::1 ::2 1 123456\r\n", "TAKO_ERR_PROXY_BAD_PORT"],
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
      ["PROXY X", "TAKO_ERR_PROXY_BAD_FAMILY"],
      ["PROXY TCP4X", "TAKO_ERR_PROXY_BAD_FAMILY"],
      ["PROXY TCP4  ", "TAKO_ERR_PROXY_V1_SYNTAX"],
      ["PROXY TCP4 1.2.3.256", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 01", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3.4.", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP4 1.2.3 ", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::1::", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 12345", "TAKO_ERR_PROXY_BAD_ADDRESS"],
      ["PROXY TCP6 ::1 ::1 70000", "TAKO_ERR_PROXY_BAD_PORT"],
      ["PROXY TCP6 ::1 ::1 0", "no error"],
      ["PROXY TCP6 ::1 ::1 00", "TAKO_ERR_PROXY_BAD_PORT"],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ", "TAKO_ERR_PROXY_V1_SYNTAX"],
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
      const bytes = concat(
        enc(line),
        Uint8Array.from(extra, (c) => c.charCodeAt(0)),
      );
      const copy = bytes.slice();
      assert.equal(parsed(bytes).headerLength, line.length, JSON.stringify(extra));
      assert.deepEqual(bytes, copy);
    }
    // The line end is the first CRLF: a second header is the next protocol's business.
    assert.equal(parsed(enc("PROXY UNKNOWN\r\nPROXY UNKNOWN\r\n")).headerLength, 15);
  });
});
