import { createSecureContext } from "node:tls";
import type { TlsInfo } from "../../core/conn-info.ts";
import { type CertResolver, TlsCert } from "../../core/tls.ts";
import type { TlsOptions } from "../engine.ts";
import { loadCert, TLS_POLICY } from "../shared/tls-material.ts";
import { tlsInfoFrom } from "../shared/tls-info.ts";
import type { AlpnProtocol } from "../wire/socket.ts";
import type { BunSniHandle, BunTlsConfig, BunTlsSocket } from "./bun-api.ts";

/** OpenSSL's number for TLS 1.2, the lowest version tako's policy allows (`TLS_POLICY.minVersion`). */
const TLS1_2_VERSION = 0x0303;

/** ALPN's wire form: each name preceded by its length. */
function alpnWire(names: readonly string[]): Uint8Array {
  const parts = names.map((n) => new TextEncoder().encode(n));
  const out = new Uint8Array(parts.reduce((n, p) => n + 1 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out[at++] = p.length;
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The resolver's answer for clients without SNI, when it gives one at once; `null` otherwise. */
function defaultOf(resolver: CertResolver): TlsCert | null {
  try {
    const cert = resolver.resolve(null);
    if (cert instanceof TlsCert) return cert;
    Promise.resolve(cert).catch(() => {});
  } catch {
    // no default
  }
  return null;
}

/**
 * TLS on `Bun.listen` sockets (`socket.upgradeTLS`, server side) with tako's policy: TLS 1.2+,
 * forward-secret AEAD suites only ({@link TLS_POLICY}), optional or required client certificates
 * against the configured CA. The certificate is static, or chosen per handshake by a resolver:
 * the client's SNI name goes to the resolver through the socket's `serverName` handler (its
 * answer, at once or later, as a native secure context made once per `TlsCert`); a client
 * without SNI gets the resolver's answer for `null`, asked again for each connection (so a reload
 * is seen by the next handshake, never by an established one).
 *
 * After the handshake {@link protocolFor} names the protocol the connection goes to by ALPN:
 * `h2` (offered first when HTTP/2 is on) to tako's HTTP/2 codec, `http/1.1` (or no ALPN) to its
 * HTTP/1.1 codec.
 */
export class BunTls {
  readonly #auth: "optional" | "required" | null;
  readonly #caPem: string | undefined;
  readonly #alpn: Uint8Array;
  /** `h2` is offered. */
  readonly #h2: boolean;
  readonly #resolver: CertResolver | null;
  /** The certificate served without SNI, and what `upgradeTLS` is given for it. */
  #default: TlsCert;
  #config: BunTlsConfig;
  readonly #contexts = new WeakMap<TlsCert, unknown>();

  private constructor(tls: TlsOptions, first: TlsCert, resolver: CertResolver | null) {
    const auth = tls.cert.clientAuth;
    this.#auth = auth?.mode ?? null;
    this.#caPem = auth?.caPem;
    this.#alpn = alpnWire(BunTls.offered(tls));
    this.#h2 = tls.http2;
    this.#resolver = resolver;
    this.#default = first;
    this.#config = this.#configOf(first);
  }

  /**
   * TLS for `tls` on this path, or `null` when it is not served here: a resolver without an
   * immediate answer for clients without SNI (`upgradeTLS` needs a certificate up front).
   */
  static create(tls: TlsOptions): BunTls | null {
    const source = tls.cert.source;
    if (source.kind !== "resolver") return new BunTls(tls, tls.cert, null);
    const first = defaultOf(source.resolver);
    return first === null ? null : new BunTls(tls, first, source.resolver);
  }

  /** The ALPN names offered, in preference order. */
  static offered(tls: TlsOptions): readonly AlpnProtocol[] {
    return tls.http2 ? ["h2", "http/1.1"] : ["http/1.1"];
  }

  #configOf(cert: TlsCert): BunTlsConfig {
    const material = loadCert(cert);
    const auth = this.#auth;
    return {
      cert: material.certPem,
      key: material.keyPem,
      ...(this.#caPem === undefined ? {} : { ca: this.#caPem }),
      requestCert: auth !== null,
      rejectUnauthorized: auth === "required",
      ciphers: TLS_POLICY.ciphers,
      minVersion: TLS1_2_VERSION,
      ALPNProtocols: this.#alpn,
    };
  }

  /** What `upgradeTLS` is given for the next connection (with a resolver: its current answer for no SNI). */
  config(): BunTlsConfig {
    const resolver = this.#resolver;
    if (resolver !== null) {
      const cert = defaultOf(resolver);
      if (cert !== null && cert !== this.#default) {
        this.#default = cert;
        this.#config = this.#configOf(cert);
      }
    }
    return this.#config;
  }

  /** The native secure context for `cert` (tako's policy, the client CA), made once. */
  #contextFor(cert: TlsCert): unknown {
    let context = this.#contexts.get(cert);
    if (context === undefined) {
      const material = loadCert(cert);
      const options = { ...TLS_POLICY, cert: material.certPem, key: material.keyPem, ca: this.#caPem };
      context = (createSecureContext(options) as unknown as { context: unknown }).context;
      this.#contexts.set(cert, context);
    }
    return context;
  }

  /**
   * The `serverName` handler of the TLS sockets (`null` for a static certificate): the resolver
   * chooses by the SNI name, at once or later; an error (thrown or rejected) fails the handshake.
   */
  readonly serverName = (_listener: unknown, servername: string, handle: BunSniHandle): unknown => {
    const resolver = this.#resolver;
    if (resolver === null) return undefined;
    let answer: TlsCert | Promise<TlsCert>;
    try {
      answer = resolver.resolve(servername);
      if (answer instanceof TlsCert) return this.#contextFor(answer);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    Promise.resolve(answer).then(
      (cert) => resume(handle, () => this.#contextFor(cert)),
      () => resume(handle, null),
    );
    return true;
  };

  /** The protocol a connection speaks after its handshake: no ALPN is HTTP/1.1; `h2` only when offered. */
  protocolFor(alpn: string | false | null): AlpnProtocol | null {
    if (alpn === false || alpn === null || alpn === "" || alpn === "http/1.1") return "http/1.1";
    if (alpn === "h2" && this.#h2) return "h2";
    return null;
  }

  /**
   * Why a completed handshake is refused, or `null`: with client authentication, a certificate
   * that did not verify (Bun completes such handshakes even when required, measured), or none
   * when required.
   */
  refusal(socket: BunTlsSocket<unknown>): Error | null {
    const auth = this.#auth;
    if (auth === null || socket.authorized) return null;
    const peer = socket.getPeerCertificate(true);
    const presented = peer != null && peer.raw !== undefined;
    if (auth === "optional" && !presented) return null;
    return new Error(presented ? "the client certificate did not verify against the configured CA" : "no client certificate (ClientAuth.required)");
  }

  /** `req.conn.tls` of a connection after its handshake; the peer certificate only when verified. */
  static infoOf(socket: BunTlsSocket<unknown>): TlsInfo {
    const peer = socket.authorized ? socket.getPeerCertificate(true) : null;
    return tlsInfoFrom({
      alpnProtocol: socket.alpnProtocol,
      serverName: socket.getServername(),
      protocol: socket.getTLSVersion(),
      cipher: socket.getCipher(),
      verifiedPeer: peer?.raw ?? null,
    });
  }
}

/** Goes on with the handshake a resolver answered late (`null`: fail it); the connection may be gone by then. */
function resume(handle: BunSniHandle, context: (() => unknown) | null): void {
  try {
    if (context === null) handle.resumeSNI(undefined, true);
    else handle.resumeSNI(context(), false);
  } catch {
    // the connection closed while the resolver ran, or the certificate it chose is unusable
    try {
      handle.resumeSNI(undefined, true);
    } catch {
      // closed
    }
  }
}
