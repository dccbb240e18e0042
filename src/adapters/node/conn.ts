import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { SocketConnInfo, type ConnInfo, type TlsInfo } from "../../core/conn-info.ts";
import { proxiedClient } from "../shared/proxied-headers.ts";
import { tlsInfoFrom } from "../shared/tls-info.ts";
import { proxyOf } from "./proxy-transport.ts";
import { unixPathOf } from "./unix-peer.ts";

const kTls = Symbol("tako.tlsInfo");
type Tagged = Socket & { [kTls]?: TlsInfo };

/**
 * The TLS facts of a connection, read once after its handshake and kept on the socket. The
 * peer certificate is given only when it was verified against the configured CA.
 */
export function tlsInfoOf(socket: TLSSocket): TlsInfo {
  const tagged = socket as TLSSocket & { [kTls]?: TlsInfo };
  const hit = tagged[kTls];
  if (hit !== undefined) return hit;
  const peer = socket.authorized ? socket.getPeerCertificate(true) : null;
  const info = tlsInfoFrom({
    alpnProtocol: socket.alpnProtocol,
    serverName: (socket as { servername?: unknown }).servername,
    protocol: socket.getProtocol(),
    cipher: socket.getCipher() as { standardName?: string; name?: string } | null,
    verifiedPeer: peer !== null && peer.raw !== undefined ? peer.raw : null,
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
  const client = proxiedClient(proxy);
  const unix = unixPathOf(socket);
  if (unix !== undefined) return new SocketConnInfo(client?.address ?? "", client?.port ?? 0, unix, 0, httpVersion, tls, proxy, "unix");
  return new SocketConnInfo(
    client?.address ?? socket.remoteAddress ?? "",
    client?.port ?? socket.remotePort ?? 0,
    socket.localAddress ?? "",
    socket.localPort ?? 0,
    httpVersion,
    tls,
    proxy,
  );
}
