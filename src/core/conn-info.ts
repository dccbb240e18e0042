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

/**
 * Connection facts handed to handlers as `req.conn`: the same shape on every transport and
 * runtime. Addresses are as the server socket sees them.
 */
export interface ConnInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** `"1.1"` for HTTP/1.x (HTTP/1.0 requests included), `"2.0"` for HTTP/2. */
  readonly httpVersion: "1.1" | "2.0";
  /** `null` on cleartext connections. */
  readonly tls: TlsInfo | null;
  /**
   * The PROXY protocol header the connection opened with (`proxyProtocol` on the builder); then
   * `remoteAddress`/`remotePort` are the client's from it. `null` without one.
   */
  readonly proxy: ProxyHeader | null;
}

/** Connection facts as engines build them for `req.conn` (cleartext or TLS, HTTP/1.1 or HTTP/2). */
export class SocketConnInfo implements ConnInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly httpVersion: "1.1" | "2.0";
  readonly tls: TlsInfo | null;
  readonly proxy: ProxyHeader | null;
  constructor(
    remoteAddress: string,
    remotePort: number,
    localAddress: string,
    localPort: number,
    httpVersion: "1.1" | "2.0" = "1.1",
    tls: TlsInfo | null = null,
    proxy: ProxyHeader | null = null,
  ) {
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.localAddress = localAddress;
    this.localPort = localPort;
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
  httpVersion: "1.1",
  tls: null,
  proxy: null,
});
