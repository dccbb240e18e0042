import type { TlsInfo } from "../../core/conn-info.ts";
import type { H1Conn } from "../wire/h1-conn.ts";
import type { AlpnProtocol, WireSocket, WireTls } from "../wire/socket.ts";
import { DenoWireSocket } from "./wire-socket.ts";

/**
 * TLS on a `Deno.listenTls` connection: its handshake (`Deno.TlsConn.handshake()`) runs before
 * anything is read, and ALPN's choice picks the codec (`h2` when offered; `http/1.1` or none:
 * HTTP/1.1). Deno shows ALPN only: `req.conn.tls` has no server name, version, cipher or peer
 * certificate (client certificates and SNI resolvers are served on node:net, `nativeOpening`).
 *
 * A plain connection (one the listener accepted before it moved to `Deno.listenTls`) is served
 * by `plain`, TLS in the process over that connection.
 */
export class DenoWireTls implements WireTls {
  readonly #h2: boolean;
  readonly #plain: WireTls;

  /** `h2`: HTTP/2 is offered by ALPN. `plain`: TLS for a connection that is not a `Deno.TlsConn`. */
  constructor(h2: boolean, plain: WireTls) {
    this.#h2 = h2;
    this.#plain = plain;
  }

  upgrade(conn: H1Conn): void {
    const socket = conn.raw as DenoWireSocket;
    if (socket.conn.handshake === undefined) return this.#plain.upgrade(conn);
    socket.conn.handshake().then(
      (info) => {
        if (socket.closed) return;
        socket.alpn = info.alpnProtocol;
        conn.handshake(true, null);
        socket.ready();
      },
      (error: unknown) => conn.handshake(false, error instanceof Error ? error : new Error(String(error))),
    );
  }

  settle(socket: WireSocket): Error | AlpnProtocol {
    if (!(socket instanceof DenoWireSocket)) return this.#plain.settle(socket);
    const alpn = socket.alpn;
    if (alpn === null || alpn === "" || alpn === "http/1.1") return "http/1.1";
    if (alpn === "h2" && this.#h2) return "h2";
    return new Error(`no handler for ALPN protocol ${alpn}`);
  }

  info(socket: WireSocket): TlsInfo {
    if (!(socket instanceof DenoWireSocket)) return this.#plain.info(socket);
    return Object.freeze({ alpnProtocol: socket.alpn, serverName: null, protocol: null, cipher: null, peerCertificate: null });
  }
}
