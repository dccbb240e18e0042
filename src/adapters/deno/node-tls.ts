import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";
import type { TlsInfo } from "../../core/conn-info.ts";
import { TlsCert } from "../../core/tls.ts";
import type { TlsOptions } from "../engine.ts";
import { tlsInfoFrom } from "../shared/tls-info.ts";
import { loadCert, TLS_POLICY } from "../shared/tls-material.ts";
import type { H1Conn } from "../wire/h1-conn.ts";
import { WireSocketDuplex } from "../wire/socket-duplex.ts";
import type { AlpnProtocol, TlsChoice, WireEvents, WireSocket, WireTls } from "../wire/socket.ts";
import type { DenoWireSocket } from "./wire-socket.ts";

/**
 * TLS run by Deno's node:tls over a `Deno.listen` connection, for what `Deno.listenTls` cannot
 * do: a certificate chosen per connection by a resolver (the connection reads the ClientHello
 * and asks it first, {@link choose}, as on Bun), a PROXY header before the handshake, TLS on a
 * Unix socket, and an explicit `tlsHandshakeTimeout` (the socket under the handshake is tako's,
 * so the deadline closes it and frees its descriptor). The ciphertext goes between the
 * {@link DenoWireSocket} and a server-side `TLSSocket` through a {@link WireSocketDuplex}; the
 * cleartext side is the connection's socket ({@link NodeTlsWireSocket}), so both codecs serve:
 * HTTP/2 when ALPN chose `h2`, HTTP/1.1 otherwise. `req.conn.tls` is complete (ALPN, server
 * name, version, cipher).
 *
 * Client certificates are not served here: Deno's node:tls over a stream neither verifies one
 * against the CA nor refuses an unverifiable one (measured, Deno 2.9.6: `authorized` false for a
 * valid certificate, a self-signed one accepted with `rejectUnauthorized`), so mTLS stays on
 * Deno's node:net, where node:tls owns the socket and verifies.
 */
export class DenoNodeTls implements WireTls {
  readonly #alpn: string[];
  readonly #h2: boolean;
  readonly #static: SecureContext | null;
  readonly #contexts = new WeakMap<TlsCert, SecureContext>();
  readonly choose: ((serverName: string | null) => TlsChoice | Promise<TlsChoice>) | undefined;

  constructor(tls: TlsOptions) {
    this.#h2 = tls.http2;
    this.#alpn = tls.http2 ? ["h2", "http/1.1"] : ["http/1.1"];
    const source = tls.cert.source;
    if (source.kind === "resolver") {
      const resolver = source.resolver;
      this.#static = null;
      this.choose = (serverName) => {
        const answer = resolver.resolve(serverName);
        return answer instanceof TlsCert ? this.#contextFor(answer) : Promise.resolve(answer).then((cert) => this.#contextFor(cert));
      };
    } else {
      this.#static = this.#contextFor(tls.cert);
      this.choose = undefined;
    }
  }

  #contextFor(cert: unknown): SecureContext {
    if (!(cert instanceof TlsCert) || cert.source.kind === "resolver") throw new TypeError("the certificate resolver answered something other than a static TlsCert");
    let context = this.#contexts.get(cert);
    if (context === undefined) {
      const material = loadCert(cert);
      this.#contexts.set(cert, (context = createSecureContext({ ...TLS_POLICY, cert: material.certPem, key: material.keyPem })));
    }
    return context;
  }

  upgrade(conn: H1Conn, initial?: Uint8Array, choice?: TlsChoice): void {
    const context = (choice as SecureContext | undefined) ?? this.#static;
    if (context === null) throw new Error("no certificate chosen for the handshake");
    const raw = conn.raw as DenoWireSocket;
    const secure = new NodeTlsWireSocket(raw, conn, context, this.#alpn);
    conn.raw = secure;
    conn.socket = secure;
    if (initial !== undefined) secure.cipher.received(initial);
    // The connection may have paused the TCP socket while it read the hello; the stream decides now.
    raw.resume();
  }

  settle(socket: WireSocket): Error | AlpnProtocol {
    const alpn = (socket as NodeTlsWireSocket).tls.alpnProtocol;
    if (alpn === false || alpn === null || alpn === "http/1.1") return "http/1.1";
    if (alpn === "h2" && this.#h2) return "h2";
    return new Error(`no handler for ALPN protocol ${String(alpn)}`);
  }

  info(socket: WireSocket): TlsInfo {
    const tls = (socket as NodeTlsWireSocket).tls;
    return tlsInfoFrom({
      alpnProtocol: tls.alpnProtocol,
      serverName: (tls as TLSSocket & { servername?: string | false }).servername,
      protocol: tls.getProtocol(),
      cipher: tls.getCipher(),
      verifiedPeer: null,
    });
  }
}

/**
 * The cleartext side of a {@link DenoNodeTls} connection as the connection's {@link WireSocket}:
 * writes go to the `TLSSocket` (refused with 0, `drain` owed, while its buffer is over its
 * high-water mark), its events go to the connection; the TCP socket's events go to the
 * ciphertext stream ({@link cipher}). Addresses are the TCP socket's.
 */
export class NodeTlsWireSocket implements WireSocket {
  readonly tls: TLSSocket;
  /** The ciphertext stream between the TCP socket and {@link tls}. */
  readonly cipher: WireSocketDuplex;
  readonly #raw: DenoWireSocket;
  readonly #conn: H1Conn;
  #secure = false;
  #owed = false;
  #closed = false;

  constructor(raw: DenoWireSocket, conn: H1Conn, context: SecureContext, alpn: string[]) {
    this.#raw = raw;
    this.#conn = conn;
    const cipher = (this.cipher = new WireSocketDuplex(raw));
    const events: WireEvents = {
      data: (chunk) => cipher.received(chunk),
      drain: () => cipher.drained(),
      ended: () => cipher.ended(),
      closed: () => {
        cipher.gone();
        this.#gone();
      },
    };
    raw.data = events;
    const tls = (this.tls = new TLSSocket(cipher as unknown as ConstructorParameters<typeof TLSSocket>[0], { isServer: true, secureContext: context, ALPNProtocols: alpn }));
    tls.on("secure", () => {
      this.#secure = true;
      if (!this.#closed) conn.handshake(true, null);
    });
    tls.on("data", (chunk: Uint8Array) => conn.data(chunk));
    tls.on("drain", () => {
      if (!this.#owed) return;
      this.#owed = false;
      conn.drain();
    });
    tls.on("end", () => conn.ended());
    tls.on("error", (error: Error) => {
      if (!this.#secure && !this.#closed) conn.handshake(false, error);
    });
    tls.on("close", () => this.#gone());
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.closed();
  }

  write(data: Uint8Array): number {
    if (this.#closed || this.tls.destroyed || this.tls.writableEnded) return -1;
    if (this.tls.writableNeedDrain) {
      this.#owed = true;
      return 0;
    }
    this.tls.write(data);
    return data.length;
  }

  end(): void {
    this.shutdown();
  }

  shutdown(): void {
    if (this.#closed) return;
    // Before the handshake (a refusal, a deadline): nothing to say in TLS; what was written (an
    // alert) goes out, then FIN on the TCP socket.
    if (!this.#secure) return void this.#raw.end();
    this.tls.end();
  }

  terminate(): void {
    this.tls.destroy();
    this.#raw.terminate();
  }

  pause(): void {
    this.tls.pause();
  }

  resume(): void {
    this.tls.resume();
  }

  setNoDelay(noDelay: boolean): boolean {
    return this.#raw.setNoDelay(noDelay);
  }

  get remoteAddress(): string | undefined {
    return this.#raw.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.#raw.remotePort;
  }

  get remoteFamily(): string | undefined {
    return this.#raw.remoteFamily;
  }

  get localAddress(): string | undefined {
    return this.#raw.localAddress;
  }

  get localPort(): number | undefined {
    return this.#raw.localPort;
  }
}
