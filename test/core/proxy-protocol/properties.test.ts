// Property-based checks of the PROXY parser with fast-check: arbitrary and mutated bytes, valid
// headers round-tripping, truncation, and IPv6 formatting against the URL parser.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  parseProxyHeader,
  PROXY_V1_MAX,
  PROXY_V2_MAX_ADDRESS_BYTES,
  PROXY_V2_SIGNATURE,
  ProxyProtocolError,
  type ParseOptions,
  type ProxyHeader,
} from "../../../src/core/proxy-protocol/index.ts";
import { enc, hex, concat, u16, tlv, v2, parsed } from "./_helpers.ts";

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
const v1ish = fc.array(fc.constantFrom(..."PROXY TCP4 TCP6 UNKNOWN 0123456789abcdefABCDEF:.. \r\n\r\n\t\x00\xff"), { maxLength: 130 }).map((chars) =>
  concat(
    enc("PROXY "),
    Uint8Array.from(chars, (c) => c.charCodeAt(0)),
  ),
);

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
    .record({
      client: fc.integer({ min: 0, max: 7 }),
      verify: fc.integer({ min: 0, max: 0xffffffff }),
      subs: fc.uniqueArray(fc.record({ type: fc.integer({ min: 0x21, max: 0x28 }), value: fc.uint8Array({ maxLength: 20 }) }), { selector: (s) => s.type, maxLength: 6 }),
    })
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
      fc.property(
        validHeader,
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.constantFrom<ParseOptions | undefined>(undefined, { onBadCrc: "flag" }),
        ({ bytes }, mutations, options) => {
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
        },
      ),
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
