// The model of a parsed PROXY header, its error type and codes, and the protocol's size limits.

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
  | "TAKO_ERR_PROXY_BAD_SIGNATURE"
  /** v2: the version nibble is not 2. */
  | "TAKO_ERR_PROXY_BAD_VERSION"
  /** v2: the command nibble is neither LOCAL (0) nor PROXY (1). */
  | "TAKO_ERR_PROXY_BAD_COMMAND"
  /** v1: the protocol is not TCP4, TCP6 or UNKNOWN; v2: the family/transport byte is not one the spec lists. */
  | "TAKO_ERR_PROXY_BAD_FAMILY"
  /** An address is not valid for its family, or v2's length is too short for the address block. */
  | "TAKO_ERR_PROXY_BAD_ADDRESS"
  /** v1: a port is not a decimal 0..65535 without leading zeros. */
  | "TAKO_ERR_PROXY_BAD_PORT"
  /** v1: no CRLF within {@link PROXY_V1_MAX} bytes; v2: the length exceeds {@link PROXY_V2_MAX_ADDRESS_BYTES}. */
  | "TAKO_ERR_PROXY_TOO_LONG"
  /** v2: the CRC32C TLV does not match the header. */
  | "TAKO_ERR_PROXY_BAD_CRC"
  /** v2: the TLVs do not exactly fill the header, or a known TLV is malformed or repeated. */
  | "TAKO_ERR_PROXY_BAD_TLV"
  /** v1: anything else off the grammar (spacing, missing or extra fields, a lone CR or LF). */
  | "TAKO_ERR_PROXY_V1_SYNTAX";

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
  /** What a CRC32C TLV that does not match does: `"reject"` (default) throws `TAKO_ERR_PROXY_BAD_CRC`; `"flag"` returns the header with `crc32cVerified: false`. */
  readonly onBadCrc?: "reject" | "flag";
}

/** What {@link parseProxyHeader} made of the bytes so far. */
export type ParseResult =
  | { readonly done: true; readonly header: ProxyHeader }
  /** The header is incomplete but may still be valid: read at least `need` more bytes, then parse all of them again. */
  | { readonly done: false; readonly need: number };
