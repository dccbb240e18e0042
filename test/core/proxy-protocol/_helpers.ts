// Shared builders and assertions of the PROXY parser tests: a test-side v2 encoder (independent
// of the parser), address blocks, and checks for complete, rejected and incomplete headers.
import assert from "node:assert/strict";
import {
  crc32c,
  parseProxyHeader,
  PROXY_V2_SIGNATURE,
  ProxyProtocolError,
  type ParseOptions,
  type ProxyHeader,
  type ProxyProtocolErrorCode,
} from "../../../src/core/proxy-protocol/index.ts";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Bytes from hex, spaces ignored. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  assert.equal(clean.length % 2, 0, "odd hex");
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function u16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff);
}

export function tlv(type: number, value: Uint8Array): Uint8Array {
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
export function v2(spec: V2Spec): Uint8Array {
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

export const INET_ADDR = hex("c0a80001 0a000002 d204 01bb"); // 192.168.0.1 → 10.0.0.2, 53764 → 443
export const INET6_ADDR = hex("20010db8000000000000000000000001 fe800000000000000000000000000000 0050 1f90");
export function unixAddr(src: string, dst: string): Uint8Array {
  const out = new Uint8Array(216);
  out.set(enc(src), 0);
  out.set(enc(dst), 108);
  return out;
}

export function parsed(bytes: Uint8Array, options?: ParseOptions): ProxyHeader {
  const r = parseProxyHeader(bytes, options);
  assert.ok(r.done, `expected a complete header, got need ${r.done ? "" : r.need}`);
  return r.header;
}

export function rejects(bytes: Uint8Array, code: ProxyProtocolErrorCode, options?: ParseOptions): void {
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
export function assertEveryPrefixIncomplete(bytes: Uint8Array, total: number): void {
  for (let k = 0; k < total; k++) {
    const r = parseProxyHeader(bytes.subarray(0, k));
    assert.equal(r.done, false, `prefix of ${k}/${total} bytes`);
    if (!r.done) assert.ok(r.need >= 1 && r.need <= total - k, `need ${r.need} at ${k}/${total}`);
  }
}

/** Feeds the header `need` bytes at a time, as a reader would: it must land exactly on the header's end. */
export function assertFeedLandsExactly(bytes: Uint8Array, total: number): void {
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

export const BASE: Omit<ProxyHeader, "version" | "command" | "family" | "transport" | "sourceAddress" | "sourcePort" | "destinationAddress" | "destinationPort" | "headerLength"> =
  {
    alpn: null,
    authority: null,
    uniqueId: null,
    crc32cVerified: undefined,
    ssl: null,
    awsVpceId: null,
    tlvs: [],
  };
