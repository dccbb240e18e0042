// PROXY protocol headers as a load balancer writes them, for wire tests (v1 text, v2 binary).
import { crc32c, PROXY_V2_SIGNATURE } from "../../src/core/proxy-protocol/index.ts";

export function v1(src: string, dst: string, sport: number, dport: number): Buffer {
  const family = src.includes(":") ? "TCP6" : "TCP4";
  return Buffer.from(`PROXY ${family} ${src} ${dst} ${sport} ${dport}\r\n`, "latin1");
}

export interface V2Options {
  command?: "PROXY" | "LOCAL";
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  tlvs?: [type: number, value: Buffer][];
  /** Append a CRC32C TLV: "good" or "bad". */
  crc?: "good" | "bad";
  /** Override the version nibble (tests of bad input). */
  version?: number;
}

const ipv4 = (a: string): Buffer => Buffer.from(a.split(".").map(Number));
function ipv6(a: string): Buffer {
  const [head, tail] = a.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(parseInt(g, 16), i * 2);
  });
  return out;
}

export function v2(opts: V2Options = {}): Buffer {
  const src = opts.src ?? "203.0.113.7";
  const dst = opts.dst ?? "192.0.2.1";
  const six = src.includes(":");
  const addr = Buffer.alloc(six ? 36 : 12);
  if (six) {
    ipv6(src).copy(addr, 0);
    ipv6(dst).copy(addr, 16);
    addr.writeUInt16BE(opts.sport ?? 40000, 32);
    addr.writeUInt16BE(opts.dport ?? 443, 34);
  } else {
    ipv4(src).copy(addr, 0);
    ipv4(dst).copy(addr, 4);
    addr.writeUInt16BE(opts.sport ?? 40000, 8);
    addr.writeUInt16BE(opts.dport ?? 443, 10);
  }
  const tlvs = (opts.tlvs ?? []).map(([type, value]) => Buffer.concat([Buffer.from([type, value.length >> 8, value.length & 0xff]), value]));
  const crcTlv = opts.crc === undefined ? [] : [Buffer.from([0x03, 0, 4, 0, 0, 0, 0])];
  const body = Buffer.concat([addr, ...tlvs, ...crcTlv]);
  const head = Buffer.alloc(16);
  Buffer.from(PROXY_V2_SIGNATURE).copy(head, 0);
  head[12] = ((opts.version ?? 2) << 4) | (opts.command === "LOCAL" ? 0 : 1);
  head[13] = six ? 0x21 : 0x11;
  head.writeUInt16BE(body.length, 14);
  const out = Buffer.concat([head, body]);
  if (opts.crc !== undefined) {
    const at = out.length - 4;
    const sum = crc32c(out) ^ (opts.crc === "bad" ? 1 : 0);
    out.writeUInt32BE(sum >>> 0, at);
  }
  return out;
}
