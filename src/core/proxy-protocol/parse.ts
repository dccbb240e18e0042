// The entry points: tell v1 from v2 by the signature and hand the bytes to that parser.
import { PROXY_V2_SIGNATURE, ProxyProtocolError, type ParseOptions, type ParseResult } from "./header.ts";
import { parseV1, V1_MIN, V1_PREFIX } from "./v1.ts";
import { parseV2 } from "./v2.ts";

/** Private copy: the exported signature is a mutable array a caller could scribble on. */
const V2_SIG = PROXY_V2_SIGNATURE.slice();

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
    if (!matchesPrefix(bytes, V1_PREFIX)) throw new ProxyProtocolError("TAKO_ERR_PROXY_BAD_SIGNATURE", 'not a PROXY protocol header: expected "PROXY " or the v2 signature');
    return parseV1(bytes);
  }
  if (!matchesPrefix(bytes, V2_SIG)) throw new ProxyProtocolError("TAKO_ERR_PROXY_BAD_SIGNATURE", 'not a PROXY protocol header: expected "PROXY " or the v2 signature');
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
