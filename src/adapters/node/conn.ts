import { X509Certificate } from "node:crypto";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { SocketConnInfo, type ConnInfo, type PeerCertificate, type TlsInfo } from "../../core/conn-info.ts";
import { proxyOf } from "./proxy-transport.ts";
import { unixPathOf } from "./unix-peer.ts";

const kTls = Symbol("tako.tlsInfo");
type Tagged = Socket & { [kTls]?: TlsInfo };

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

/**
 * The TLS facts of a connection, read once after its handshake and kept on the socket. The
 * peer certificate is given only when it was verified against the configured CA.
 */
export function tlsInfoOf(socket: TLSSocket): TlsInfo {
  const tagged = socket as TLSSocket & { [kTls]?: TlsInfo };
  const hit = tagged[kTls];
  if (hit !== undefined) return hit;
  let peerCertificate: PeerCertificate | null = null;
  if (socket.authorized) {
    const peer = socket.getPeerCertificate(true);
    if (peer !== null && peer.raw !== undefined) {
      const x509 = new X509Certificate(peer.raw);
      peerCertificate = Object.freeze({
        subject: oneLine(x509.subject),
        issuer: oneLine(x509.issuer),
        serialNumber: serialHex(x509.serialNumber),
        validFrom: new Date(x509.validFrom),
        validTo: new Date(x509.validTo),
        fingerprint256: x509.fingerprint256,
        raw: new Uint8Array(peer.raw),
      });
    }
  }
  const cipher = socket.getCipher() as { standardName?: string; name?: string } | null;
  const info: TlsInfo = Object.freeze({
    alpnProtocol: typeof socket.alpnProtocol === "string" ? socket.alpnProtocol : null,
    serverName:
      typeof (socket as { servername?: unknown }).servername === "string" && (socket as { servername: string }).servername !== ""
        ? (socket as { servername: string }).servername
        : null,
    protocol: socket.getProtocol() ?? null,
    cipher: cipher?.standardName ?? cipher?.name ?? null,
    peerCertificate,
  });
  tagged[kTls] = info;
  return info;
}

/**
 * `req.conn` for a connection: addresses from the socket (the client's from its PROXY header
 * when it came through a proxy), TLS facts when it is a TLS socket.
 */
export function connInfoOf(socket: Socket, httpVersion: "1.1" | "2.0"): ConnInfo {
  const tls = (socket as Tagged & { encrypted?: boolean }).encrypted === true ? tlsInfoOf(socket as TLSSocket) : null;
  const proxy = proxyOf(socket);
  const client = proxy !== null && proxy.command === "PROXY" && proxy.sourceAddress !== null && proxy.family !== "UNIX";
  const unix = unixPathOf(socket);
  if (unix !== undefined) {
    return new SocketConnInfo(client ? proxy.sourceAddress! : "", client ? (proxy.sourcePort ?? 0) : 0, unix, 0, httpVersion, tls, proxy, "unix");
  }
  return new SocketConnInfo(
    client ? proxy.sourceAddress! : (socket.remoteAddress ?? ""),
    client ? (proxy.sourcePort ?? 0) : (socket.remotePort ?? 0),
    socket.localAddress ?? "",
    socket.localPort ?? 0,
    httpVersion,
    tls,
    proxy,
  );
}
