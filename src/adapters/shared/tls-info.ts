import { X509Certificate } from "node:crypto";
import type { PeerCertificate, TlsInfo } from "../../core/conn-info.ts";

/** `X509Certificate` prints names one attribute per line; `req.conn` shows them RFC 4514 style on one line. */
const oneLine = (name: string): string =>
  name
    .split("\n")
    .filter((part) => part !== "")
    .join(", ");

/**
 * A serial number as whole bytes of upper-case hex, as Node and Bun print it: Deno's
 * `X509Certificate` drops the leading zero of a first byte below 0x10 (measured), which made
 * the same certificate read differently on Deno.
 */
function serialHex(serial: string): string {
  const hex = serial.toUpperCase();
  return hex.length % 2 === 1 ? `0${hex}` : hex;
}

/** `req.conn.tls.peerCertificate` from a verified client certificate in DER form. */
export function peerCertificateOf(raw: Uint8Array): PeerCertificate {
  const x509 = new X509Certificate(raw);
  return Object.freeze({
    subject: oneLine(x509.subject),
    issuer: oneLine(x509.issuer),
    serialNumber: serialHex(x509.serialNumber),
    validFrom: new Date(x509.validFrom),
    validTo: new Date(x509.validTo),
    fingerprint256: x509.fingerprint256,
    raw: new Uint8Array(raw),
  });
}

/** What a TLS socket reports after its handshake, in whichever API the runtime has. */
export interface TlsFacts {
  readonly alpnProtocol: unknown;
  readonly serverName: unknown;
  readonly protocol: string | null | undefined;
  readonly cipher: { readonly standardName?: string; readonly name?: string } | null | undefined;
  /** The client's certificate in DER form when it was verified against the configured CA; else `null`. */
  readonly verifiedPeer: Uint8Array | null;
}

/** `req.conn.tls`, the same shape on every runtime: empty or missing values are `null`. */
export function tlsInfoFrom(facts: TlsFacts): TlsInfo {
  return Object.freeze({
    alpnProtocol: typeof facts.alpnProtocol === "string" && facts.alpnProtocol !== "" ? facts.alpnProtocol : null,
    serverName: typeof facts.serverName === "string" && facts.serverName !== "" ? facts.serverName : null,
    protocol: facts.protocol ?? null,
    cipher: facts.cipher?.standardName ?? facts.cipher?.name ?? null,
    peerCertificate: facts.verifiedPeer === null ? null : peerCertificateOf(facts.verifiedPeer),
  });
}
