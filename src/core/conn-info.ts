import type { ProxyHeader } from "./proxy-protocol/index.ts";

/** The verified certificate a TLS client presented (mutual TLS). */
export interface PeerCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly validFrom: Date;
  readonly validTo: Date;
  /** SHA-256 fingerprint, colon-separated upper-case hex. */
  readonly fingerprint256: string;
  /** The certificate in DER form. */
  readonly raw: Uint8Array;
}

/** TLS facts of a connection, captured once at the handshake. */
export interface TlsInfo {
  readonly alpnProtocol: string | null;
  readonly serverName: string | null;
  readonly protocol: string | null;
  readonly cipher: string | null;
  readonly peerCertificate: PeerCertificate | null;
}

/** The HTTP version of a connection as `req.conn.httpVersion` reports it. */
export type HttpVersion = "1.1" | "2.0" | "3";

/** The address family of the socket a connection was accepted on; `null` for `router.fetch` in process. */
export type ConnFamily = "IPv4" | "IPv6" | "unix";

/**
 * Connection facts handed to handlers as `req.conn`: the same shape on every transport and
 * runtime. Addresses are as the server socket sees them.
 *
 * On a Unix socket listener (`UnixListener`): `family` is `"unix"`, `localAddress` the
 * listener's path (an abstract name as `"@name"`), `localPort` 0; the peer of a Unix connection
 * has no address of its own (clients connect from an unnamed socket), so `remoteAddress` is `""`
 * and `remotePort` 0 — unless a PROXY header names the client, which then fills both, as on TCP
 * (`family` stays `"unix"`: it describes the socket; the client's is `proxy.family`).
 */
export interface ConnInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The family of the accepted socket: `"IPv4"`, `"IPv6"` or `"unix"`; `null` in process (`router.fetch`). */
  readonly family: ConnFamily | null;
  /** `"1.1"` for HTTP/1.x (HTTP/1.0 requests included), `"2.0"` for HTTP/2, `"3"` for HTTP/3 (over QUIC, `spawnH3`). */
  readonly httpVersion: HttpVersion;
  /** `null` on cleartext connections. */
  readonly tls: TlsInfo | null;
  /**
   * The PROXY protocol header the connection opened with (`proxyProtocol` on the builder); then
   * `remoteAddress`/`remotePort` are the client's from it. `null` without one.
   */
  readonly proxy: ProxyHeader | null;
}

/** Connection facts as engines build them for `req.conn` (cleartext or TLS; HTTP/1.1, HTTP/2 or HTTP/3). */
export class SocketConnInfo implements ConnInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly family: ConnFamily;
  readonly httpVersion: HttpVersion;
  readonly tls: TlsInfo | null;
  readonly proxy: ProxyHeader | null;
  /** `family`: omitted, it is read from `localAddress` (IPv6 when it has a colon). */
  constructor(
    remoteAddress: string,
    remotePort: number,
    localAddress: string,
    localPort: number,
    httpVersion: HttpVersion = "1.1",
    tls: TlsInfo | null = null,
    proxy: ProxyHeader | null = null,
    family?: ConnFamily,
  ) {
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.localAddress = localAddress;
    this.localPort = localPort;
    this.family = family ?? (localAddress.includes(":") ? "IPv6" : "IPv4");
    this.httpVersion = httpVersion;
    this.tls = tls;
    this.proxy = proxy;
  }
}

/** Connection facts for requests dispatched in process with `router.fetch`. */
export const IN_PROCESS_CONN: ConnInfo = Object.freeze({
  remoteAddress: "",
  remotePort: 0,
  localAddress: "",
  localPort: 0,
  family: null,
  httpVersion: "1.1",
  tls: null,
  proxy: null,
});
