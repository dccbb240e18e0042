import { Socket } from "node:net";
import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";
import type { TlsInfo } from "../../core/conn-info.ts";
import { TlsCert } from "../../core/tls.ts";
import type { TlsOptions } from "../engine.ts";
import { tlsInfoFrom } from "../shared/tls-info.ts";
import { loadCert, TLS_POLICY } from "../shared/tls-material.ts";
import type { H1Conn } from "../wire/h1-conn.ts";
import { WireSocketDuplex } from "../wire/socket-duplex.ts";
import { type DenoTcpHandle, tcpWrap } from "./deno-api.ts";
import { NodeNetWireSocket } from "./net-socket.ts";
import { DenoWireSocket } from "./wire-socket.ts";
import type { AlpnProtocol, TlsChoice, WireEvents, WireSocket, WireTls } from "../wire/socket.ts";

/** A raw socket whose events can be taken over (`DenoWireSocket`, `NodeNetWireSocket`). */
type RawSocket = WireSocket & { data: WireEvents };

/**
 * TLS run by Deno's node:tls over a `Deno.listen` connection, for what `Deno.listenTls` cannot
 * do: a certificate chosen per connection by a resolver (the connection reads the ClientHello
 * and asks it first, {@link choose}, as on Bun), client certificates, a PROXY header before the
 * handshake, TLS on a Unix socket, and an explicit `tlsHandshakeTimeout` (the socket under the
 * handshake is tako's, so the deadline closes it and frees its descriptor). (`Deno.listenTls`'s
 * unstable SNI callback asks once per server name for the listener's life, which would freeze a
 * reloading resolver, and has no client authentication.) Deno runs the TLS in
 * Rust on a node:net handle (its TLSWrap) where there is one: an adopted descriptor's node:net
 * socket (`NodeNetWireSocket`), or a duplicate of a `Deno.listen` TCP connection's descriptor
 * (`openFromRid`; the `Deno.Conn` stays open, unread, until the connection closes, because
 * closing it sends FIN: two descriptors per connection, {@link descriptors}). Otherwise (a Unix
 * socket, a Deno without the handle) the
 * ciphertext goes between the raw socket and a server-side `TLSSocket` through a
 * {@link WireSocketDuplex}, with Deno's record pump in JavaScript (measured on HTTPS/1.1: the
 * handle serves ~1.15× the requests/s on `Deno.listen`, ~1.35× on an adopted descriptor). The
 * cleartext side is the connection's socket
 * ({@link NodeTlsWireSocket}), so both codecs serve: HTTP/2 when ALPN chose `h2`, HTTP/1.1
 * otherwise. `req.conn.tls` is complete (ALPN, server name, version, cipher, the verified peer
 * certificate).
 *
 * Client certificates: a `TLSSocket` over a stream asks for one (`requestCert`; `required` also
 * fails the handshake without one) but Deno does not judge it: `authorized` stays false and a
 * self-signed certificate is accepted even with `rejectUnauthorized` (measured, Deno 2.9.6).
 * node:tls's server judges it after the handshake with the TLS handle's `verifyError()`
 * (against the configured CA; measured on Deno: nothing for a certificate the CA signed,
 * `DEPTH_ZERO_SELF_SIGNED_CERT` for a stranger's), and so does {@link settle} here: an
 * unverifiable certificate refuses the connection, as no certificate does when required. A
 * runtime whose handle has no `verifyError` refuses every client certificate (fail closed).
 */
export class DenoNodeTls implements WireTls {
  readonly #alpn: string[];
  readonly #h2: boolean;
  readonly #auth: "optional" | "required" | null;
  readonly #caPem: string | undefined;
  readonly #static: SecureContext | null;
  readonly #contexts = new WeakMap<TlsCert, SecureContext>();
  readonly choose: ((serverName: string | null) => TlsChoice | Promise<TlsChoice>) | undefined;
  readonly descriptors: number;

  /** `listened`: connections come from `Deno.listen` on TCP (TLS on a duplicate of their descriptor: two each). */
  constructor(tls: TlsOptions, listened: boolean) {
    this.descriptors = listened && tcpWrap() !== null ? 2 : 1;
    this.#h2 = tls.http2;
    this.#auth = tls.cert.clientAuth?.mode ?? null;
    this.#caPem = tls.cert.clientAuth?.caPem;
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
      this.#contexts.set(cert, (context = createSecureContext({ ...TLS_POLICY, cert: material.certPem, key: material.keyPem, ca: this.#caPem })));
    }
    return context;
  }

  upgrade(conn: H1Conn, initial?: Uint8Array, choice?: TlsChoice): void {
    const context = (choice as SecureContext | undefined) ?? this.#static;
    if (context === null) throw new Error("no certificate chosen for the handshake");
    const raw = conn.raw as RawSocket;
    const secure = new NodeTlsWireSocket(raw, conn, context, this.#alpn, this.#auth, initial);
    conn.raw = secure;
    conn.socket = secure;
    // The connection may have paused the TCP socket while it read the hello; the stream decides now
    // (a node:net handle is read by TLS itself).
    if (!secure.native) raw.resume();
  }

  settle(socket: WireSocket): Error | AlpnProtocol {
    const secure = socket as NodeTlsWireSocket;
    const refusal = secure.refusal();
    if (refusal !== null) return refusal;
    const alpn = secure.tls.alpnProtocol;
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
      verifiedPeer: (socket as NodeTlsWireSocket).verifiedPeer,
    });
  }
}

/**
 * The node:net socket TLS can run on in Rust: an adopted descriptor's own socket, or, for a
 * `Deno.listen` TCP connection, a socket on a duplicate of its descriptor (`openFromRid`). The
 * `Deno.Conn` stops reading and stays open until the TLS connection closes: closing it shuts the
 * shared socket's sending side down (FIN), so such a connection holds two descriptors. `null`:
 * TLS runs over a stream (a Unix socket, a read under way, or a Deno without the handle).
 */
function nativeSocket(raw: RawSocket): Socket | null {
  if (raw instanceof NodeNetWireSocket) return raw.socket;
  // A read under way on the connection's own resource would take bytes meant for the handle: TLS
  // runs over the stream then (not expected: the connection resumes reading in a microtask, after
  // this hand-over, when an async resolver has answered).
  if (!(raw instanceof DenoWireSocket) || raw.rid < 0 || raw.reading) return null;
  const wrap = tcpWrap();
  if (wrap === null) return null;
  raw.pause();
  const handle: DenoTcpHandle = new wrap.TCP(wrap.constants.SOCKET);
  if (handle.openFromRid(raw.rid) !== 0) {
    handle.close();
    return null;
  }
  return new Socket({ handle, allowHalfOpen: true, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
}

/**
 * The cleartext side of a {@link DenoNodeTls} connection as the connection's {@link WireSocket}:
 * writes go to the `TLSSocket` (refused with 0, `drain` owed, while its buffer is over its
 * high-water mark), its events go to the connection; the TCP socket's events go to the
 * ciphertext stream ({@link cipher}). Addresses are the TCP socket's.
 */
export class NodeTlsWireSocket implements WireSocket {
  readonly tls: TLSSocket;
  readonly #raw: RawSocket;
  readonly #conn: H1Conn;
  readonly #auth: "optional" | "required" | null;
  /** The client's certificate (DER) once verified against the CA; else `null`. */
  verifiedPeer: Uint8Array | null = null;
  #secure = false;
  #owed = false;
  #closed = false;
  /** TLS runs on a node:net handle (in Rust), not over a JavaScript stream. */
  readonly native: boolean;

  /** `initial`: ciphertext read from `raw` already (the ClientHello, or what followed a PROXY header). */
  constructor(raw: RawSocket, conn: H1Conn, context: SecureContext, alpn: string[], auth: "optional" | "required" | null, initial: Uint8Array | undefined) {
    this.#raw = raw;
    this.#conn = conn;
    this.#auth = auth;
    let under: ConstructorParameters<typeof TLSSocket>[0];
    let cipher: WireSocketDuplex | null = null;
    const native = nativeSocket(raw);
    if (native !== null) {
      // A node:net socket: Deno's TLS runs on its handle in Rust (TLSWrap), and takes what was read
      // already (paused, so the bytes wait in its buffer instead of flowing to a listener).
      native.pause();
      if (initial !== undefined) native.unshift(initial);
      raw.data = { data: () => {}, drain: () => {}, ended: () => {}, closed: () => this.#gone() };
      under = native;
    } else {
      const duplex = (cipher = new WireSocketDuplex(raw));
      raw.data = {
        data: (chunk) => duplex.received(chunk),
        drain: () => duplex.drained(),
        ended: () => duplex.ended(),
        closed: () => {
          duplex.gone();
          this.#gone();
        },
      };
      under = duplex as unknown as ConstructorParameters<typeof TLSSocket>[0];
    }
    this.native = native !== null;
    const tls = (this.tls = new TLSSocket(under, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: alpn,
      requestCert: auth !== null,
      // Fails the handshake of a client without a certificate; a certificate is judged by `refusal`.
      rejectUnauthorized: auth === "required",
    }));
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
    if (cipher !== null && initial !== undefined) cipher.received(initial);
    // TLS reads the bytes waiting in the socket's buffer first, then its handle; with none waiting
    // the socket is resumed so the handle is read (a resume would let waiting bytes flow past TLS).
    if (native !== null && initial === undefined) native.resume();
  }

  /**
   * After the handshake, with client authentication: why the connection is refused (a
   * certificate that does not verify against the CA, or none when required), or `null`; a
   * verified certificate becomes {@link verifiedPeer}.
   */
  refusal(): Error | null {
    const auth = this.#auth;
    if (auth === null) return null;
    const peer = this.tls.getPeerCertificate(true) as { raw?: Uint8Array } | null;
    const raw = peer?.raw;
    if (raw === undefined || raw.length === 0) return auth === "required" ? new Error("no client certificate (ClientAuth.required)") : null;
    const handle = (this.tls as TLSSocket & { _handle?: { verifyError?: () => unknown } })._handle;
    if (typeof handle?.verifyError !== "function") return new Error("the client certificate cannot be verified on this runtime (no verifyError on the TLS handle)");
    const error = handle.verifyError();
    if (error) {
      const code = (error as { code?: unknown }).code ?? error;
      return new Error(`the client certificate did not verify against the configured CA (${String(code)})`);
    }
    this.verifiedPeer = raw;
    return null;
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    // A `Deno.listen` connection under a duplicate handle: its own descriptor goes now.
    if (this.native && this.#raw instanceof DenoWireSocket) this.#raw.terminate();
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
    if (!this.#secure) return void (this.native ? this.tls.destroy() : this.#raw.end());
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
