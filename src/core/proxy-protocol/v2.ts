// Version 2: the binary format, a 16-byte fixed part, the address block and the TLVs.
import { formatIpv4, formatIpv6 } from "./address.ts";
import { readU16, readU32, UTF8 } from "./bytes.ts";
import { crc32c } from "./crc32c.ts";
import { PROXY_V2_MAX_ADDRESS_BYTES, ProxyProtocolError, type ParseResult, type ProxyHeader, type ProxySsl, type ProxyTlv } from "./header.ts";
import {
  parseSsl,
  PP2_SUBTYPE_AWS_VPCE_ID,
  PP2_TYPE_ALPN,
  PP2_TYPE_AUTHORITY,
  PP2_TYPE_AWS,
  PP2_TYPE_CRC32C,
  PP2_TYPE_SSL,
  PP2_TYPE_UNIQUE_ID,
  tlvError,
  UNIQUE_ID_MAX,
} from "./tlv.ts";

const V2_FIXED = 16;

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

/**
 * Version 2. The fixed part is checked byte by byte as it arrives. The address block is sized by
 * the family (0 for UNSPEC: there the whole length is TLVs). A LOCAL header may advertise no
 * address at all (length 0); otherwise its address block is skipped and its TLVs are parsed.
 */
export function parseV2(bytes: Uint8Array, flagBadCrc: boolean): ParseResult {
  const n = bytes.length;
  const verCmd = bytes[12];
  if (verCmd === undefined) return { done: false, need: V2_FIXED - n };
  if (verCmd >> 4 !== 2) throw new ProxyProtocolError("TAKO_ERR_PROXY_BAD_VERSION", `v2 header: version ${verCmd >> 4} (only 2 exists)`);
  const commandNibble = verCmd & 0x0f;
  if (commandNibble > 1) throw new ProxyProtocolError("TAKO_ERR_PROXY_BAD_COMMAND", `v2 header: command ${commandNibble} (expected 0 LOCAL or 1 PROXY)`);
  const command = commandNibble === 1 ? "PROXY" : "LOCAL";
  const famByte = bytes[13];
  if (famByte === undefined) return { done: false, need: V2_FIXED - n };
  const fam = V2_FAMILIES.get(famByte);
  if (fam === undefined)
    throw new ProxyProtocolError("TAKO_ERR_PROXY_BAD_FAMILY", `v2 header: family/transport byte 0x${famByte.toString(16).padStart(2, "0")} is not one the spec defines`);
  if (n < V2_FIXED) return { done: false, need: V2_FIXED - n };
  const length = (bytes[14]! << 8) | bytes[15]!;
  if (length > PROXY_V2_MAX_ADDRESS_BYTES) throw new ProxyProtocolError("TAKO_ERR_PROXY_TOO_LONG", `v2 header: length ${length} exceeds ${PROXY_V2_MAX_ADDRESS_BYTES}`);
  if (length < fam.addressBytes && !(command === "LOCAL" && length === 0)) {
    throw new ProxyProtocolError("TAKO_ERR_PROXY_BAD_ADDRESS", `v2 header: length ${length} is too short for the ${fam.addressBytes}-byte ${fam.family} address block`);
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
    if (!crc32cVerified && !flagBadCrc) throw new ProxyProtocolError("TAKO_ERR_PROXY_BAD_CRC", "v2 header: CRC32C mismatch");
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

/** A 108-byte NUL-padded `sun_path`: the text before the first NUL. */
function unixPath(b: Uint8Array, at: number): string {
  let end = at;
  while (end < at + 108 && b[end] !== 0) end++;
  return UTF8.decode(b.subarray(at, end));
}
