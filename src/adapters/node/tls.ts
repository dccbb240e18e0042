import type { Socket } from "node:net";
import { createSecureContext, createServer, type SecureContext, type SecureContextOptions, type Server as TlsServer, type TLSSocket } from "node:tls";
import type { ServerConfig } from "../../core/config.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import type { TlsCert } from "../../core/tls.ts";
import type { TlsOptions } from "../engine.ts";
import { connectionRefused, publishConnection } from "../shared/diagnostics.ts";
import { loadCert, TLS_POLICY } from "../shared/tls-material.ts";
import { h2Transport } from "./h2.ts";
import { http1Transport, type NetPathOptions } from "./http1.ts";
import type { Transport } from "./transport.ts";

/**
 * TLS termination on connections from the acceptor: each socket is wrapped in a server-side
 * `TLSSocket` with tako's policy (TLS 1.2+, forward-secret AEAD suites only), the certificate
 * chosen per handshake (static, or by SNI through a resolver), optional client certificates,
 * and a handshake deadline; after the handshake ALPN picks the HTTP/2 or HTTP/1.1 transport.
 */
export function tlsTransport(router: Dispatcher, config: ServerConfig, tls: TlsOptions, options: NetPathOptions): Transport {
  const h1 = http1Transport(router, config, options);
  const h2 = tls.http2 ? h2Transport(router, config, options.served) : null;
  const auth = tls.cert.clientAuth;
  /** tako's policy with `cert`'s material (read and checked once per TlsCert) and the client CA. */
  const contextOptions = (cert: TlsCert): SecureContextOptions => {
    const material = loadCert(cert);
    return { ...TLS_POLICY, cert: material.certPem, key: material.keyPem, ca: auth?.caPem };
  };
  const contexts = new WeakMap<TlsCert, SecureContext>();
  const contextFor = (cert: TlsCert): SecureContext => {
    let context = contexts.get(cert);
    if (context === undefined) contexts.set(cert, (context = createSecureContext(contextOptions(cert))));
    return context;
  };
  const source = tls.cert.source;
  const resolver = source.kind === "resolver" ? source.resolver : null;
  const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
  const SNICallback =
    resolver === null
      ? undefined
      : (servername: string, done: (error: Error | null, context?: SecureContext) => void): void => {
          try {
            Promise.resolve(resolver.resolve(servername === "" ? null : servername)).then(
              (cert) => done(null, contextFor(cert)),
              (error: unknown) => done(asError(error)),
            );
          } catch (error) {
            done(asError(error));
          }
        };
  // node:tls's server does the handshake work (and hands node:http2 a socket it can take over);
  // it is fed the acceptor's connections and never listens itself.
  const server: TlsServer = createServer({
    ...(resolver === null ? contextOptions(tls.cert) : { ...TLS_POLICY, ca: auth?.caPem }),
    SNICallback,
    ALPNProtocols: tls.http2 ? ["h2", "http/1.1"] : ["http/1.1"],
    requestCert: auth !== null,
    rejectUnauthorized: auth?.mode === "required",
    handshakeTimeout: config.tlsHandshakeTimeout,
  });
  // A failed or timed-out handshake: node:tls has destroyed the socket; reported to the
  // diagnostics channel under the TCP socket the acceptor tracks (`_parent`).
  server.on("tlsClientError", (error: Error, socket: TLSSocket) => {
    if (connectionRefused.hasSubscribers) refusedTls(socket, error);
    socket.destroy();
  });
  server.on("secureConnection", (secure: TLSSocket) => {
    secure.on("error", () => {}); // the transports report what matters; a reset must not throw
    // ClientAuth.optional: no certificate is fine, an unverifiable one is not.
    if (auth !== null && !secure.authorized && hasPeerCertificate(secure)) {
      if (connectionRefused.hasSubscribers) refusedTls(secure, secure.authorizationError);
      return void secure.destroy();
    }
    secure.disableRenegotiation();
    const inner = secure.alpnProtocol === "h2" && h2 !== null ? h2 : h1;
    // The acceptor tracks the TCP socket under the TLS one (`_parent` on Node, Bun and Deno).
    const parent = (secure as TLSSocket & { _parent?: Socket })._parent;
    if (parent !== undefined) (parent as Socket & { [kSecure]?: Secured })[kSecure] = { secure, inner };
    inner.accept(secure);
  });

  /**
   * A client without SNI gets the server's default context. With a resolver that is its answer
   * for `null`, which may change (a reload): checked per connection, rebuilt only on change.
   */
  let defaultCert: TlsCert | null = resolver === null ? tls.cert : null;
  const refreshDefault = (): void => {
    let cert: TlsCert | Promise<TlsCert>;
    try {
      cert = resolver!.resolve(null);
    } catch {
      return; // no default: a client without SNI fails its handshake
    }
    if (cert instanceof Promise) return void cert.catch(() => {});
    if (cert === defaultCert) return;
    defaultCert = cert;
    server.setSecureContext(contextOptions(cert));
  };

  return {
    // node:tls takes bytes already read (the socket's buffer) itself.
    handOff: "paused",
    // A connection over the cap is closed before its handshake: there is nothing to say in clear.
    refuse: (socket: Socket) => socket.destroy(),
    accept(socket) {
      if (resolver !== null) refreshDefault();
      server.emit("connection", socket);
    },
    drain() {
      // Handshakes under way finish into draining transports, which close them after their
      // first exchange.
      h1.drain();
      h2?.drain();
    },
    close() {
      h1.close();
      h2?.close();
    },
    // A handshake still under way (or stalled) is idle; after it, the protocol inside decides.
    idle(socket) {
      const secured = (socket as Socket & { [kSecure]?: Secured })[kSecure];
      return secured === undefined ? true : (secured.inner.idle?.(secured.secure) ?? false);
    },
  };
}

function refusedTls(socket: TLSSocket, error: unknown): void {
  const tcp = (socket as TLSSocket & { _parent?: Socket | null })._parent ?? socket;
  publishConnection(connectionRefused, tcp, tcp, "tls", error);
}

const kSecure = Symbol("tako.secure");
interface Secured {
  readonly secure: TLSSocket;
  readonly inner: Transport;
}

function hasPeerCertificate(socket: TLSSocket): boolean {
  const peer = socket.getPeerCertificate();
  return peer !== null && typeof peer === "object" && Object.keys(peer).length > 0;
}
