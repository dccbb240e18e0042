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
export {
  PROXY_V1_MAX,
  PROXY_V2_MAX_ADDRESS_BYTES,
  PROXY_V2_SIGNATURE,
  ProxyProtocolError,
  type ParseOptions,
  type ParseResult,
  type ProxyHeader,
  type ProxyProtocolErrorCode,
  type ProxySsl,
  type ProxyTlv,
} from "./header.ts";
export { mayBeProxyHeader, parseProxyHeader } from "./parse.ts";
export { crc32c } from "./crc32c.ts";
export { ProxyHeaderReader, type ProxyRead } from "./reader.ts";
