// Version 1: the text format, one line `PROXY TCP4|TCP6|UNKNOWN ... CRLF`.
import { ipv4PrefixOk, ipv6PrefixOk, parseIpv4Text, parseIpv6Text, formatIpv4, formatIpv6 } from "./address.ts";
import { PROXY_V1_MAX, ProxyProtocolError, type ParseResult, type ProxyHeader } from "./header.ts";

const CR = 0x0d;
const LF = 0x0a;
export const V1_PREFIX = Uint8Array.of(0x50, 0x52, 0x4f, 0x58, 0x59, 0x20); // "PROXY "
export const V1_MIN = 15; // "PROXY UNKNOWN\r\n"

function v1Error(message: string): ProxyProtocolError {
  return new ProxyProtocolError("TAKO_ERR_PROXY_V1_SYNTAX", message);
}

export function parseV1(bytes: Uint8Array): ParseResult {
  const limit = Math.min(bytes.length, PROXY_V1_MAX);
  let cr = -1;
  for (let i = 0; i < limit; i++) {
    const c = bytes[i];
    if (c === LF) throw v1Error("v1 header: LF without CR");
    if (c === CR) {
      cr = i;
      break;
    }
  }
  if (cr === -1) {
    // No line end yet: check what arrived can still become a valid line.
    checkV1Line(latin1(bytes, limit), false);
    // Past 105 bytes without a CR, even an immediate CRLF would overrun the maximum.
    if (bytes.length > PROXY_V1_MAX - 2) throw new ProxyProtocolError("TAKO_ERR_PROXY_TOO_LONG", `v1 header: no CRLF within ${PROXY_V1_MAX} bytes`);
    return { done: false, need: Math.max(2, V1_MIN - bytes.length) };
  }
  if (cr + 2 > PROXY_V1_MAX) throw new ProxyProtocolError("TAKO_ERR_PROXY_TOO_LONG", `v1 header: no CRLF within ${PROXY_V1_MAX} bytes`);
  const next = bytes[cr + 1];
  if (next !== undefined && next !== LF) throw v1Error("v1 header: CR without LF");
  // The line is final once its CR arrived: only an LF may follow.
  const line = checkV1Line(latin1(bytes, cr), true);
  if (next === undefined) return { done: false, need: 1 };
  const known = line !== null && line.family !== "UNSPEC";
  const header: ProxyHeader = Object.freeze({
    version: 1,
    command: "PROXY",
    family: line?.family ?? "UNSPEC",
    transport: known ? "STREAM" : "UNSPEC",
    sourceAddress: line?.sourceAddress ?? null,
    sourcePort: line?.sourcePort ?? null,
    destinationAddress: line?.destinationAddress ?? null,
    destinationPort: line?.destinationPort ?? null,
    alpn: null,
    authority: null,
    uniqueId: null,
    crc32cVerified: undefined,
    ssl: null,
    awsVpceId: null,
    tlvs: Object.freeze([]),
    headerLength: cr + 2,
  } satisfies ProxyHeader);
  return { done: true, header };
}

/** The first `n` bytes as a string of char codes 0..255, so non-ASCII bytes fail every pattern. */
function latin1(bytes: Uint8Array, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

interface V1Line {
  readonly family: "TCP4" | "TCP6" | "UNSPEC";
  readonly sourceAddress: string | null;
  readonly sourcePort: number | null;
  readonly destinationAddress: string | null;
  readonly destinationPort: number | null;
}

const V1_PROTOCOLS = ["TCP4", "TCP6", "UNKNOWN"] as const;

/**
 * Checks a v1 line without its CRLF. `complete`: the line is all there (its CR arrived), so it
 * is parsed; otherwise `line` is what arrived so far and only has to be a prefix of some valid
 * line (this then returns null). Throws on the first field that cannot be valid.
 */
function checkV1Line(line: string, complete: boolean): V1Line | null {
  // The caller matched "PROXY " (or a prefix of it, when fewer bytes arrived).
  if (line.length < V1_PREFIX.length) {
    if (complete) throw v1Error("v1 header: the line ends after PROXY");
    return null;
  }
  const rest = line.slice(V1_PREFIX.length);
  const space = rest.indexOf(" ");
  const protocol = space === -1 ? rest : rest.slice(0, space);
  if (space === -1 && !complete) {
    if (!V1_PROTOCOLS.some((p) => p.startsWith(protocol))) throw badV1Protocol(protocol);
    return null;
  }
  if (protocol === "UNKNOWN") {
    // The spec: the receiver ignores whatever follows UNKNOWN before the CRLF.
    return { family: "UNSPEC", sourceAddress: null, sourcePort: null, destinationAddress: null, destinationPort: null };
  }
  if (protocol !== "TCP4" && protocol !== "TCP6") throw badV1Protocol(protocol);
  if (space === -1) throw v1Error(`v1 header: ${protocol} without addresses and ports`);
  const fields = rest.slice(space + 1).split(" ");
  if (fields.length > 4) throw v1Error("v1 header: extra field after the destination port");
  const v4 = protocol === "TCP4";
  const addresses: string[] = [];
  const ports: number[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const final = complete || i < fields.length - 1;
    if (field === "") {
      if (final) throw v1Error(i === 0 ? "v1 header: two spaces after the protocol" : "v1 header: empty field (two spaces, or a space before CRLF)");
      continue;
    }
    if (i < 2) {
      const what = i === 0 ? "source" : "destination";
      if (final) {
        const address = v4 ? parseIpv4Text(field) : parseIpv6Text(field);
        if (address === null) throw new ProxyProtocolError("TAKO_ERR_PROXY_BAD_ADDRESS", `v1 header: invalid ${protocol} ${what} address`);
        addresses.push(v4 ? formatIpv4(address, 0) : formatIpv6(address, 0));
      } else if (!(v4 ? ipv4PrefixOk(field) : ipv6PrefixOk(field))) {
        throw new ProxyProtocolError("TAKO_ERR_PROXY_BAD_ADDRESS", `v1 header: invalid ${protocol} ${what} address`);
      }
    } else {
      const what = i === 2 ? "source" : "destination";
      if (!portPrefixOk(field)) throw new ProxyProtocolError("TAKO_ERR_PROXY_BAD_PORT", `v1 header: invalid ${what} port`);
      if (final) ports.push(Number(field));
    }
  }
  if (!complete) return null;
  const [sourceAddress, destinationAddress] = addresses;
  const [sourcePort, destinationPort] = ports;
  if (sourceAddress === undefined || destinationAddress === undefined || sourcePort === undefined || destinationPort === undefined) {
    throw v1Error("v1 header: missing fields (it needs two addresses and two ports)");
  }
  return { family: protocol, sourceAddress, destinationAddress, sourcePort, destinationPort };
}

function badV1Protocol(protocol: string): ProxyProtocolError {
  return new ProxyProtocolError("TAKO_ERR_PROXY_BAD_FAMILY", `v1 header: unknown protocol ${JSON.stringify(protocol.slice(0, 16))} (expected TCP4, TCP6 or UNKNOWN)`);
}

/** A decimal 0..65535 without leading zeros, or a prefix of one. */
function portPrefixOk(s: string): boolean {
  if (!/^[0-9]{0,5}$/.test(s)) return false;
  if (s.length > 1 && s.startsWith("0")) return false;
  return s === "" || Number(s) <= 65535;
}
