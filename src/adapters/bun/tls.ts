import type { TlsInfo } from "../../core/conn-info.ts";
import type { TlsOptions } from "../engine.ts";
import { loadCert, TLS_POLICY } from "../shared/tls-material.ts";
import { tlsInfoFrom } from "../shared/tls-info.ts";
import type { BunTlsConfig, BunTlsSocket } from "./bun-api.ts";

/** OpenSSL's number for TLS 1.2, the lowest version tako's policy allows (`TLS_POLICY.minVersion`). */
const TLS1_2_VERSION = 0x0303;

/** The application protocols a connection may speak after its handshake, as ALPN names them. */
export type AlpnProtocol = "http/1.1" | "h2";

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
 * forward-secret AEAD suites only ({@link TLS_POLICY}), the certificate and key read and checked
 * once, optional or required client certificates against the configured CA. Bun offers no SNI
 * callback on this path, so only a static certificate is served here (a resolver stays on the
 * node:net path).
 *
 * After the handshake {@link protocolFor} names the protocol the connection goes to by ALPN;
 * only `http/1.1` is offered today. An `h2` connection would be handed to an HTTP/2 connection
 * handler by the same switch once one exists on this path.
 */
export class BunTls {
  /** What `upgradeTLS` is given for every connection. */
  readonly config: BunTlsConfig;
  readonly #auth: "optional" | "required" | null;

  /** Reads and checks `tls.cert` (it must be a static certificate: pemPaths, pem or der). */
  constructor(tls: TlsOptions) {
    const material = loadCert(tls.cert);
    const auth = tls.cert.clientAuth;
    this.#auth = auth?.mode ?? null;
    this.config = {
      cert: material.certPem,
      key: material.keyPem,
      ...(auth === null ? {} : { ca: auth.caPem }),
      requestCert: auth !== null,
      rejectUnauthorized: auth?.mode === "required",
      ciphers: TLS_POLICY.ciphers,
      minVersion: TLS1_2_VERSION,
      ALPNProtocols: alpnWire(BunTls.offered(tls)),
    };
  }

  /** The ALPN names offered, in preference order: `http/1.1` only on this path (see {@link servesOnListen}). */
  static offered(tls: TlsOptions): readonly AlpnProtocol[] {
    return tls.http2 ? ["h2", "http/1.1"] : ["http/1.1"];
  }

  /**
   * Whether this path serves `tls`: HTTP/2 switched off (ALPN offers only `http/1.1`) and a
   * static certificate (Bun's `upgradeTLS` has no per-handshake certificate choice).
   */
  static servesOnListen(tls: TlsOptions): boolean {
    return !tls.http2 && tls.cert.source.kind !== "resolver";
  }

  /** The protocol a connection speaks after its handshake: no ALPN is HTTP/1.1. */
  protocolFor(alpn: string | false | null): AlpnProtocol | null {
    if (alpn === false || alpn === null || alpn === "" || alpn === "http/1.1") return "http/1.1";
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
