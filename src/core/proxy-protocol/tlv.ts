// Version 2 TLVs: the type numbers the parser decodes, and the SSL TLV with its sub-TLVs.
import { readU16, readU32, UTF8 } from "./bytes.ts";
import { ProxyProtocolError, type ProxySsl, type ProxyTlv } from "./header.ts";

/** TLV types of the spec (and AWS's), as numbers on the wire. */
export const PP2_TYPE_ALPN = 0x01;
export const PP2_TYPE_AUTHORITY = 0x02;
export const PP2_TYPE_CRC32C = 0x03;
export const PP2_TYPE_UNIQUE_ID = 0x05;
export const PP2_TYPE_SSL = 0x20;
export const PP2_SUBTYPE_SSL_VERSION = 0x21;
export const PP2_SUBTYPE_SSL_CN = 0x22;
export const PP2_SUBTYPE_SSL_CIPHER = 0x23;
export const PP2_SUBTYPE_SSL_SIG_ALG = 0x24;
export const PP2_SUBTYPE_SSL_KEY_ALG = 0x25;
export const PP2_TYPE_AWS = 0xea;
export const PP2_SUBTYPE_AWS_VPCE_ID = 0x01;
export const UNIQUE_ID_MAX = 128;

export function tlvError(message: string): ProxyProtocolError {
  return new ProxyProtocolError("TAKO_ERR_PROXY_BAD_TLV", `v2 header: ${message}`);
}

/** The `PP2_TYPE_SSL` value: client byte, 4-byte verify, then sub-TLVs that must exactly fill it. */
export function parseSsl(value: Uint8Array): ProxySsl {
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
