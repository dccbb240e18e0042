import type { TlsInfo } from "../../core/conn-info.ts";
import { type CertResolver, TlsCert } from "../../core/tls.ts";
import type { TlsOptions } from "../engine.ts";
import { loadCert, TLS_POLICY } from "../shared/tls-material.ts";
import { tlsInfoFrom } from "../shared/tls-info.ts";
import type { AlpnProtocol } from "../wire/socket.ts";
import type { BunTlsConfig, BunTlsSocket } from "./bun-api.ts";

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

/**
 * TLS on `Bun.listen` sockets (`socket.upgradeTLS`, server side) with tako's policy: TLS 1.2+,
 * forward-secret AEAD suites only ({@link TLS_POLICY}), optional or required client certificates
 * against the configured CA. The certificate is static, or chosen per connection by a resolver
 * before the handshake starts ({@link choose}, `WireTls.choose`): the connection reads the
 * ClientHello, the resolver gets its SNI name (`null` without one) and answers at once or later,
 * and the handshake starts with that certificate (so a reload is seen by the next handshake,
 * never by an established one, and a resolver with no answer for clients without SNI is fine).
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
  /** What `upgradeTLS` is given for a static certificate. */
  readonly #static: BunTlsConfig | null;
  /** What `upgradeTLS` is given for each certificate a resolver chose, made once per `TlsCert`. */
  readonly #configs = new WeakMap<TlsCert, BunTlsConfig>();

  constructor(tls: TlsOptions) {
    const auth = tls.cert.clientAuth;
    this.#auth = auth?.mode ?? null;
    this.#caPem = auth?.caPem;
    this.#alpn = alpnWire(BunTls.offered(tls));
    this.#h2 = tls.http2;
    const source = tls.cert.source;
    this.#resolver = source.kind === "resolver" ? source.resolver : null;
    this.#static = this.#resolver === null ? this.#configOf(tls.cert) : null;
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

  /** What `upgradeTLS` is given for a static certificate; `null` with a resolver (see {@link choose}). */
  get staticConfig(): BunTlsConfig | null {
    return this.#static;
  }

  /** The resolver chooses the certificate by the ClientHello's server name (`null`: no SNI); `null` for a static certificate. */
  get choose(): ((serverName: string | null) => BunTlsConfig | Promise<BunTlsConfig>) | null {
    return this.#resolver === null ? null : this.#choose;
  }

  readonly #choose = (serverName: string | null): BunTlsConfig | Promise<BunTlsConfig> => {
    const answer = this.#resolver!.resolve(serverName);
    if (answer instanceof TlsCert) return this.#configFor(answer);
    return Promise.resolve(answer).then((cert) => this.#configFor(cert));
  };

  #configFor(cert: unknown): BunTlsConfig {
    if (!(cert instanceof TlsCert) || cert.source.kind === "resolver") throw new TypeError("the certificate resolver answered something other than a static TlsCert");
    let config = this.#configs.get(cert);
    if (config === undefined) this.#configs.set(cert, (config = this.#configOf(cert)));
    return config;
  }

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
