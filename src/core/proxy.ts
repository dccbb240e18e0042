/**
 * A pure parser for the PROXY protocol header (versions 1 and 2) that a load balancer puts in
 * front of a relayed connection to tell the server who the real client is.
 *
 * Runtime-neutral: bytes in (`Uint8Array`), a {@link ProxyHeader} out. The engines read from the
 * socket, call {@link parseProxyHeader} on what arrived so far, read more while it answers
 * `done: false`, and hand the bytes after `headerLength` to HTTP. Nothing here touches a socket.
 *
 * Strict by design: anything that is not exactly a header the spec allows is rejected with a
 * {@link ProxyProtocolError}, as early as the bytes show it, so a connection that does not speak
 * the protocol is dropped at once instead of waiting for a timeout.
 * @module
 */

/** The 12 bytes every version 2 header starts with: `\r\n\r\n\0\r\nQUIT\n`. */
export const PROXY_V2_SIGNATURE: Uint8Array = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);

/**
 * The longest version 1 header, CRLF included: `PROXY UNKNOWN` followed by two full-length IPv6
 * addresses and two 5-digit ports. A line without its CRLF within this many bytes is rejected.
 */
export const PROXY_V1_MAX = 107;

/**
 * The largest length a version 2 header may advertise (the 16-bit field after the fixed 16
 * bytes: addresses plus TLVs), so the whole header is at most `16 + 536 = 552` bytes. A header
 * advertising more is rejected as soon as the length field arrives, without waiting for (or
 * buffering) the bytes it announces.
 *
 * 536 is the figure the spec designs both formats around: the smallest TCP segment every host
 * must accept (576 - 40), so a sender that follows the spec never needs more. It fits the
 * largest address block (216 bytes, AF_UNIX) plus 320 bytes of TLVs, or the IPv4/IPv6 blocks
 * plus 500+ bytes of TLVs: enough for ALPN, a 255-byte authority (SNI), a CRC32C, a 128-byte
 * unique id, an SSL block with version, cipher and a typical CN, and a cloud provider's TLV.
 */
export const PROXY_V2_MAX_ADDRESS_BYTES = 536;

/** Stable codes of {@link ProxyProtocolError}. */
export type ProxyProtocolErrorCode =
  /** The first bytes are neither `PROXY ` (v1) nor the v2 signature. */
  | "TAKO_PROXY_BAD_SIGNATURE"
  /** v2: the version nibble is not 2. */
  | "TAKO_PROXY_BAD_VERSION"
  /** v2: the command nibble is neither LOCAL (0) nor PROXY (1). */
  | "TAKO_PROXY_BAD_COMMAND"
  /** v1: the protocol is not TCP4, TCP6 or UNKNOWN; v2: the family/transport byte is not one the spec lists. */
  | "TAKO_PROXY_BAD_FAMILY"
  /** An address is not valid for its family, or v2's length is too short for the address block. */
  | "TAKO_PROXY_BAD_ADDRESS"
  /** v1: a port is not a decimal 0..65535 without leading zeros. */
  | "TAKO_PROXY_BAD_PORT"
  /** v1: no CRLF within {@link PROXY_V1_MAX} bytes; v2: the length exceeds {@link PROXY_V2_MAX_ADDRESS_BYTES}. */
  | "TAKO_PROXY_TOO_LONG"
  /** v2: the CRC32C TLV does not match the header. */
  | "TAKO_PROXY_BAD_CRC"
  /** v2: the TLVs do not exactly fill the header, or a known TLV is malformed or repeated. */
  | "TAKO_PROXY_BAD_TLV"
  /** v1: anything else off the grammar (spacing, missing or extra fields, a lone CR or LF). */
  | "TAKO_PROXY_V1_SYNTAX";

/** The bytes cannot be a valid PROXY protocol header; `code` tells why. */
export class ProxyProtocolError extends Error {
  /** Why the header was rejected. */
  readonly code: ProxyProtocolErrorCode;
  constructor(code: ProxyProtocolErrorCode, message: string) {
    super(message);
    this.name = "ProxyProtocolError";
    this.code = code;
  }
}

/** One raw v2 TLV (type, value), in header order. */
export interface ProxyTlv {
  readonly type: number;
  /** A copy of the value bytes. */
  readonly value: Uint8Array;
}

/** The decoded `PP2_TYPE_SSL` TLV: how the client reached the proxy over TLS. */
export interface ProxySsl {
  /** Bit field: 0x01 client connected over TLS, 0x02 sent a certificate on this connection, 0x04 on this TLS session. */
  readonly client: number;
  /** 0 when the client presented a certificate and it verified; anything else otherwise. */
  readonly verify: number;
  /** `PP2_SUBTYPE_SSL_VERSION` (0x21), e.g. `"TLSv1.3"`. */
  readonly version: string | null;
  /** `PP2_SUBTYPE_SSL_CN` (0x22): the client certificate's Common Name. */
  readonly cn: string | null;
  /** `PP2_SUBTYPE_SSL_CIPHER` (0x23), e.g. `"ECDHE-RSA-AES128-GCM-SHA256"`. */
  readonly cipher: string | null;
  /** `PP2_SUBTYPE_SSL_SIG_ALG` (0x24), e.g. `"RSA-SHA256"`. */
  readonly sigAlg: string | null;
  /** `PP2_SUBTYPE_SSL_KEY_ALG` (0x25), e.g. `"RSA2048"`. */
  readonly keyAlg: string | null;
  /** Every sub-TLV in order (raw), including the ones decoded above. */
  readonly tlvs: readonly ProxyTlv[];
}

/** A parsed PROXY protocol header. */
export interface ProxyHeader {
  readonly version: 1 | 2;
  /** v1 is always `"PROXY"`. `"LOCAL"` (v2): the proxy's own connection (e.g. a health check): use the socket's endpoints. */
  readonly command: "PROXY" | "LOCAL";
  /** As advertised; v1 `UNKNOWN` is `"UNSPEC"`. */
  readonly family: "TCP4" | "TCP6" | "UNIX" | "UNSPEC";
  /** As advertised; v1 TCP4/TCP6 is `"STREAM"`, v1 UNKNOWN `"UNSPEC"`. */
  readonly transport: "STREAM" | "DGRAM" | "UNSPEC";
  /** IPv4 dotted quad, IPv6 in compressed lower-case form (RFC 5952), or a unix socket path; `null` for LOCAL, UNSPEC and v1 UNKNOWN. */
  readonly sourceAddress: string | null;
  /** `null` where there is no address, and for UNIX. */
  readonly sourcePort: number | null;
  readonly destinationAddress: string | null;
  readonly destinationPort: number | null;
  /** `PP2_TYPE_ALPN` (0x01), e.g. `"h2"`. */
  readonly alpn: string | null;
  /** `PP2_TYPE_AUTHORITY` (0x02): the host name the client asked for (TLS SNI). */
  readonly authority: string | null;
  /** `PP2_TYPE_UNIQUE_ID` (0x05): the proxy's opaque connection id (at most 128 bytes). */
  readonly uniqueId: Uint8Array | null;
  /**
   * `PP2_TYPE_CRC32C` (0x03): `true` when present and correct; `false` when present and wrong
   * (only with `onBadCrc: "flag"`, otherwise the header is rejected); `undefined` when absent.
   */
  readonly crc32cVerified: boolean | undefined;
  /** `PP2_TYPE_SSL` (0x20) with its sub-TLVs. */
  readonly ssl: ProxySsl | null;
  /** `PP2_TYPE_AWS` (0xEA) subtype 0x01: the AWS VPC endpoint id, e.g. `"vpce-0123456789abcdef0"`. */
  readonly awsVpceId: string | null;
  /** Every TLV in order (raw), including the ones decoded above. Empty for v1. */
  readonly tlvs: readonly ProxyTlv[];
  /** Bytes the header takes at the start of the input; what follows belongs to the application protocol. */
  readonly headerLength: number;
}

/** Options of {@link parseProxyHeader}. */
export interface ParseOptions {
  /** What a CRC32C TLV that does not match does: `"reject"` (default) throws `TAKO_PROXY_BAD_CRC`; `"flag"` returns the header with `crc32cVerified: false`. */
  readonly onBadCrc?: "reject" | "flag";
}

/** What {@link parseProxyHeader} made of the bytes so far. */
export type ParseResult =
  | { readonly done: true; readonly header: ProxyHeader }
  /** The header is incomplete but may still be valid: read at least `need` more bytes, then parse all of them again. */
  | { readonly done: false; readonly need: number };

/** TLV types of the spec (and AWS's), as numbers on the wire. */
const PP2_TYPE_ALPN = 0x01;
const PP2_TYPE_AUTHORITY = 0x02;
const PP2_TYPE_CRC32C = 0x03;
const PP2_TYPE_UNIQUE_ID = 0x05;
const PP2_TYPE_SSL = 0x20;
const PP2_SUBTYPE_SSL_VERSION = 0x21;
const PP2_SUBTYPE_SSL_CN = 0x22;
const PP2_SUBTYPE_SSL_CIPHER = 0x23;
const PP2_SUBTYPE_SSL_SIG_ALG = 0x24;
const PP2_SUBTYPE_SSL_KEY_ALG = 0x25;
const PP2_TYPE_AWS = 0xea;
const PP2_SUBTYPE_AWS_VPCE_ID = 0x01;
const UNIQUE_ID_MAX = 128;

const CR = 0x0d;
const LF = 0x0a;
/** Private copy: the exported signature is a mutable array a caller could scribble on. */
const V2_SIG = PROXY_V2_SIGNATURE.slice();
const V1_PREFIX = Uint8Array.of(0x50, 0x52, 0x4f, 0x58, 0x59, 0x20); // "PROXY "
const V1_MIN = 15; // "PROXY UNKNOWN\r\n"
const V2_FIXED = 16;

const UTF8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Parses the PROXY header at the start of `bytes` (v1 or v2, told apart by the first byte).
 *
 * Returns `done: false` while the header is incomplete but could still be valid, with `need`, a
 * lower bound on the bytes still missing (so a caller can read more and call again with all the
 * bytes). Throws a {@link ProxyProtocolError} as soon as the bytes cannot be a valid header:
 * wrong signature on the first bytes, v1 syntax broken in the part received, a v2 version,
 * command, family or length that is not allowed. Never reads past the header (the bytes after
 * `headerLength` are neither read nor changed) and never throws anything but ProxyProtocolError.
 */
export function parseProxyHeader(bytes: Uint8Array, options?: ParseOptions): ParseResult {
  const first = bytes[0];
  if (first === undefined) return { done: false, need: V1_MIN };
  if (first === V1_PREFIX[0]) {
    if (!matchesPrefix(bytes, V1_PREFIX)) throw new ProxyProtocolError("TAKO_PROXY_BAD_SIGNATURE", "not a PROXY protocol header: expected \"PROXY \" or the v2 signature");
    return parseV1(bytes);
  }
  if (!matchesPrefix(bytes, V2_SIG)) throw new ProxyProtocolError("TAKO_PROXY_BAD_SIGNATURE", "not a PROXY protocol header: expected \"PROXY \" or the v2 signature");
  return parseV2(bytes, options?.onBadCrc === "flag");
}

/**
 * True while `bytes` (maybe only the first few) could be the start of a PROXY header: a prefix of
 * `"PROXY "` or of the v2 signature, or longer bytes that start with one of them. False as soon
 * as they cannot, e.g. after `"GE"` or `"\x16\x03"`: for an "optional" mode that serves plain
 * connections too. It looks at the signature only; {@link parseProxyHeader} checks the rest.
 */
export function mayBeProxyHeader(bytes: Uint8Array): boolean {
  return matchesPrefix(bytes, V1_PREFIX) || matchesPrefix(bytes, V2_SIG);
}

/** Whether the first `min(bytes.length, sig.length)` bytes equal those of `sig`. */
function matchesPrefix(bytes: Uint8Array, sig: Uint8Array): boolean {
  const n = Math.min(bytes.length, sig.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== sig[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// CRC32C

const CRC32C_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF)
 * of `bytes`, as an unsigned 32-bit number: the checksum of RFC 4960 appendix B that the
 * PROXY v2 CRC32C TLV carries (big-endian). `crc32c("123456789")` is `0xE3069283`.
 */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Version 1

function v1Error(message: string): ProxyProtocolError {
  return new ProxyProtocolError("TAKO_PROXY_V1_SYNTAX", message);
}

function parseV1(bytes: Uint8Array): ParseResult {
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
    if (bytes.length > PROXY_V1_MAX - 2) throw new ProxyProtocolError("TAKO_PROXY_TOO_LONG", `v1 header: no CRLF within ${PROXY_V1_MAX} bytes`);
    return { done: false, need: Math.max(2, V1_MIN - bytes.length) };
  }
  if (cr + 2 > PROXY_V1_MAX) throw new ProxyProtocolError("TAKO_PROXY_TOO_LONG", `v1 header: no CRLF within ${PROXY_V1_MAX} bytes`);
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
        if (address === null) throw new ProxyProtocolError("TAKO_PROXY_BAD_ADDRESS", `v1 header: invalid ${protocol} ${what} address`);
        addresses.push(v4 ? formatIpv4(address, 0) : formatIpv6(address, 0));
      } else if (!(v4 ? ipv4PrefixOk(field) : ipv6PrefixOk(field))) {
        throw new ProxyProtocolError("TAKO_PROXY_BAD_ADDRESS", `v1 header: invalid ${protocol} ${what} address`);
      }
    } else {
      const what = i === 2 ? "source" : "destination";
      if (!portPrefixOk(field)) throw new ProxyProtocolError("TAKO_PROXY_BAD_PORT", `v1 header: invalid ${what} port`);
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
  return new ProxyProtocolError("TAKO_PROXY_BAD_FAMILY", `v1 header: unknown protocol ${JSON.stringify(protocol.slice(0, 16))} (expected TCP4, TCP6 or UNKNOWN)`);
}

/** A decimal 0..65535 without leading zeros, or a prefix of one. */
function portPrefixOk(s: string): boolean {
  if (!/^[0-9]{0,5}$/.test(s)) return false;
  if (s.length > 1 && s.startsWith("0")) return false;
  return s === "" || Number(s) <= 65535;
}

/** Whether `s` can start a dotted quad (no leading zeros, each part 0..255). */
function ipv4PrefixOk(s: string): boolean {
  if (s.length > 15 || !/^[0-9.]*$/.test(s)) return false;
  const parts = s.split(".");
  if (parts.length > 4) return false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === "") {
      if (i !== parts.length - 1) return false;
      continue;
    }
    if (part.length > 3 || (part.length > 1 && part.startsWith("0")) || Number(part) > 255) return false;
  }
  return true;
}

/** A strict dotted quad as 4 bytes, or null. */
function parseIpv4Text(s: string): Uint8Array | null {
  if (!ipv4PrefixOk(s)) return null;
  const parts = s.split(".");
  if (parts.length !== 4 || parts.some((p) => p === "")) return null;
  return Uint8Array.from(parts, Number);
}

/**
 * Whether `s` can start an IPv6 address in text form: hex groups of 1 to 4 digits, at most one
 * `::`, at most 8 groups, optionally ending in a dotted quad that counts as two groups. Only
 * necessary conditions, so a prefix of a valid address always passes.
 */
function ipv6PrefixOk(s: string): boolean {
  if (s.length > 45 || !/^[0-9A-Fa-f:.]*$/.test(s)) return false;
  if (s.includes(":::")) return false;
  const double = s.indexOf("::");
  if (double !== -1 && s.indexOf("::", double + 1) !== -1) return false;
  if (s.length >= 2 && s.startsWith(":") && double !== 0) return false;
  const parts = s.split(":");
  let groups = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.includes(".")) {
      if (i !== parts.length - 1 || !ipv4PrefixOk(part)) return false;
      groups += 2;
    } else {
      if (part.length > 4) return false;
      if (part !== "") groups += 1;
    }
  }
  return groups <= (double === -1 ? 8 : 7);
}

/** An IPv6 address in text form (RFC 4291 section 2.2) as 16 bytes, or null. */
function parseIpv6Text(s: string): Uint8Array | null {
  if (s.length < 2 || !ipv6PrefixOk(s)) return null;
  const double = s.indexOf("::");
  const head = double === -1 ? s : s.slice(0, double);
  const tail = double === -1 ? "" : s.slice(double + 2);
  const headWords = ipv6Words(head, double === -1 || tail === "");
  const tailWords = ipv6Words(tail, true);
  if (headWords === null || tailWords === null) return null;
  const count = headWords.length + tailWords.length;
  if (double === -1 ? count !== 8 : count > 7) return null;
  const words = [...headWords, ...new Array<number>(8 - count).fill(0), ...tailWords];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** The 16-bit words of colon-separated groups; `last`: these groups end the address (a dotted quad may close them). */
function ipv6Words(s: string, last: boolean): number[] | null {
  if (s === "") return [];
  const parts = s.split(":");
  const words: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.includes(".")) {
      if (!last || i !== parts.length - 1) return null;
      const v4 = parseIpv4Text(part);
      if (v4 === null) return null;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(part)) return null;
      words.push(parseInt(part, 16));
    }
  }
  return words;
}

// ---------------------------------------------------------------------------------------------
// Address formatting

function formatIpv4(b: Uint8Array, at: number): string {
  return `${b[at]!}.${b[at + 1]!}.${b[at + 2]!}.${b[at + 3]!}`;
}

/**
 * RFC 5952 text: lower-case hex without leading zeros, the longest run of two or more zero
 * groups (the first on a tie) as `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d` (the form
 * socket APIs report for them).
 */
function formatIpv6(b: Uint8Array, at: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${formatIpv4(b, at + 12)}`;
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(":");
  if (bestLength < 2) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLength))}`;
}

// ---------------------------------------------------------------------------------------------
// Version 2

interface V2Family {
  readonly family: ProxyHeader["family"];
  readonly transport: ProxyHeader["transport"];
  readonly addressBytes: number;
}

/** The family/transport bytes the spec lists; every other value is rejected. */
const V2_FAMILIES: ReadonlyMap<number, V2Family> = new Map([
  [0x00, { family: "UNSPEC", transport: "UNSPEC", addressBytes: 0 }],
  [0x11, { family: "TCP4", transport: "STREAM", addressBytes: 12 }],
  [0x12, { family: "TCP4", transport: "DGRAM", addressBytes: 12 }],
  [0x21, { family: "TCP6", transport: "STREAM", addressBytes: 36 }],
  [0x22, { family: "TCP6", transport: "DGRAM", addressBytes: 36 }],
  [0x31, { family: "UNIX", transport: "STREAM", addressBytes: 216 }],
  [0x32, { family: "UNIX", transport: "DGRAM", addressBytes: 216 }],
]);

function tlvError(message: string): ProxyProtocolError {
  return new ProxyProtocolError("TAKO_PROXY_BAD_TLV", `v2 header: ${message}`);
}

/**
 * Version 2. The fixed part is checked byte by byte as it arrives. The address block is sized by
 * the family (0 for UNSPEC: there the whole length is TLVs). A LOCAL header may advertise no
 * address at all (length 0); otherwise its address block is skipped and its TLVs are parsed.
 */
function parseV2(bytes: Uint8Array, flagBadCrc: boolean): ParseResult {
  const n = bytes.length;
  const verCmd = bytes[12];
  if (verCmd === undefined) return { done: false, need: V2_FIXED - n };
  if (verCmd >> 4 !== 2) throw new ProxyProtocolError("TAKO_PROXY_BAD_VERSION", `v2 header: version ${verCmd >> 4} (only 2 exists)`);
  const commandNibble = verCmd & 0x0f;
  if (commandNibble > 1) throw new ProxyProtocolError("TAKO_PROXY_BAD_COMMAND", `v2 header: command ${commandNibble} (expected 0 LOCAL or 1 PROXY)`);
  const command = commandNibble === 1 ? "PROXY" : "LOCAL";
  const famByte = bytes[13];
  if (famByte === undefined) return { done: false, need: V2_FIXED - n };
  const fam = V2_FAMILIES.get(famByte);
  if (fam === undefined) throw new ProxyProtocolError("TAKO_PROXY_BAD_FAMILY", `v2 header: family/transport byte 0x${famByte.toString(16).padStart(2, "0")} is not one the spec defines`);
  if (n < V2_FIXED) return { done: false, need: V2_FIXED - n };
  const length = (bytes[14]! << 8) | bytes[15]!;
  if (length > PROXY_V2_MAX_ADDRESS_BYTES) throw new ProxyProtocolError("TAKO_PROXY_TOO_LONG", `v2 header: length ${length} exceeds ${PROXY_V2_MAX_ADDRESS_BYTES}`);
  if (length < fam.addressBytes && !(command === "LOCAL" && length === 0)) {
    throw new ProxyProtocolError("TAKO_PROXY_BAD_ADDRESS", `v2 header: length ${length} is too short for the ${fam.addressBytes}-byte ${fam.family} address block`);
  }
  const total = V2_FIXED + length;
  if (n < total) return { done: false, need: total - n };

  let sourceAddress: string | null = null;
  let destinationAddress: string | null = null;
  let sourcePort: number | null = null;
  let destinationPort: number | null = null;
  const a = V2_FIXED;
  if (command === "PROXY") {
    if (fam.family === "TCP4") {
      sourceAddress = formatIpv4(bytes, a);
      destinationAddress = formatIpv4(bytes, a + 4);
      sourcePort = readU16(bytes, a + 8);
      destinationPort = readU16(bytes, a + 10);
    } else if (fam.family === "TCP6") {
      sourceAddress = formatIpv6(bytes, a);
      destinationAddress = formatIpv6(bytes, a + 16);
      sourcePort = readU16(bytes, a + 32);
      destinationPort = readU16(bytes, a + 34);
    } else if (fam.family === "UNIX") {
      sourceAddress = unixPath(bytes, a);
      destinationAddress = unixPath(bytes, a + 108);
    }
  }

  // TLV framing first: they must exactly fill the rest of the header.
  const tlvs: ProxyTlv[] = [];
  let crcAt = -1;
  // (A LOCAL header of length 0 has no address block: `at` then starts past `total`.)
  for (let at = a + fam.addressBytes; at < total; ) {
    if (total - at < 3) throw tlvError(`${total - at} stray byte(s) after the last TLV`);
    const type = bytes[at]!;
    const size = readU16(bytes, at + 1);
    const start = at + 3;
    if (start + size > total) throw tlvError(`TLV 0x${type.toString(16)} (${size} bytes) overruns the header`);
    if (type === PP2_TYPE_CRC32C) {
      if (crcAt !== -1) throw tlvError("repeated CRC32C TLV");
      if (size !== 4) throw tlvError(`CRC32C TLV of ${size} bytes (expected 4)`);
      crcAt = start;
    }
    tlvs.push(Object.freeze({ type, value: bytes.slice(start, start + size) }));
    at = start + size;
  }

  let crc32cVerified: boolean | undefined;
  if (crcAt !== -1) {
    const copy = bytes.slice(0, total);
    const expected = readU32(copy, crcAt);
    copy.fill(0, crcAt, crcAt + 4);
    crc32cVerified = crc32c(copy) === expected;
    if (!crc32cVerified && !flagBadCrc) throw new ProxyProtocolError("TAKO_PROXY_BAD_CRC", "v2 header: CRC32C mismatch");
  }

  let alpn: string | null = null;
  let authority: string | null = null;
  let uniqueId: Uint8Array | null = null;
  let ssl: ProxySsl | null = null;
  let awsVpceId: string | null = null;
  const seen = new Set<string>();
  const once = (name: string): void => {
    if (seen.has(name)) throw tlvError(`repeated ${name} TLV`);
    seen.add(name);
  };
  for (const { type, value } of tlvs) {
    switch (type) {
      case PP2_TYPE_ALPN:
        once("ALPN");
        alpn = UTF8.decode(value);
        break;
      case PP2_TYPE_AUTHORITY:
        once("authority");
        authority = UTF8.decode(value);
        break;
      case PP2_TYPE_UNIQUE_ID:
        once("unique id");
        if (value.length > UNIQUE_ID_MAX) throw tlvError(`unique id TLV of ${value.length} bytes (at most ${UNIQUE_ID_MAX})`);
        uniqueId = value.slice();
        break;
      case PP2_TYPE_SSL:
        once("SSL");
        ssl = parseSsl(value);
        break;
      case PP2_TYPE_AWS:
        if (value[0] === PP2_SUBTYPE_AWS_VPCE_ID) {
          once("AWS VPC endpoint id");
          awsVpceId = UTF8.decode(value.subarray(1));
        }
        break;
      default:
        break;
    }
  }

  const header: ProxyHeader = Object.freeze({
    version: 2,
    command,
    family: fam.family,
    transport: fam.transport,
    sourceAddress,
    sourcePort,
    destinationAddress,
    destinationPort,
    alpn,
    authority,
    uniqueId,
    crc32cVerified,
    ssl,
    awsVpceId,
    tlvs: Object.freeze(tlvs),
    headerLength: total,
  } satisfies ProxyHeader);
  return { done: true, header };
}

/** The `PP2_TYPE_SSL` value: client byte, 4-byte verify, then sub-TLVs that must exactly fill it. */
function parseSsl(value: Uint8Array): ProxySsl {
  if (value.length < 5) throw tlvError(`SSL TLV of ${value.length} bytes (at least 5)`);
  const texts = new Map<number, string>();
  const tlvs: ProxyTlv[] = [];
  for (let at = 5; at < value.length; ) {
    if (value.length - at < 3) throw tlvError("stray byte(s) after the last SSL sub-TLV");
    const type = value[at]!;
    const size = readU16(value, at + 1);
    const start = at + 3;
    if (start + size > value.length) throw tlvError(`SSL sub-TLV 0x${type.toString(16)} (${size} bytes) overruns the SSL TLV`);
    const sub = value.slice(start, start + size);
    if (type >= PP2_SUBTYPE_SSL_VERSION && type <= PP2_SUBTYPE_SSL_KEY_ALG) {
      if (texts.has(type)) throw tlvError(`repeated SSL sub-TLV 0x${type.toString(16)}`);
      texts.set(type, UTF8.decode(sub));
    }
    tlvs.push(Object.freeze({ type, value: sub }));
    at = start + size;
  }
  return Object.freeze({
    client: value[0]!,
    verify: readU32(value, 1),
    version: texts.get(PP2_SUBTYPE_SSL_VERSION) ?? null,
    cn: texts.get(PP2_SUBTYPE_SSL_CN) ?? null,
    cipher: texts.get(PP2_SUBTYPE_SSL_CIPHER) ?? null,
    sigAlg: texts.get(PP2_SUBTYPE_SSL_SIG_ALG) ?? null,
    keyAlg: texts.get(PP2_SUBTYPE_SSL_KEY_ALG) ?? null,
    tlvs: Object.freeze(tlvs),
  });
}

function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** A 108-byte NUL-padded `sun_path`: the text before the first NUL. */
function unixPath(b: Uint8Array, at: number): string {
  let end = at;
  while (end < at + 108 && b[end] !== 0) end++;
  return UTF8.decode(b.subarray(at, end));
}
