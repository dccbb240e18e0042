import type { Router } from "../core/router/router.ts";
import { Server } from "./builder.ts";
import { TlsCert } from "../core/tls.ts";
import type { H2cOptions } from "../adapters/engine.ts";
import type { Listener } from "./listener.ts";

/**
 * Serves `router` over HTTP/1.1 (keep-alive, streamed bodies) on `listener` with the default
 * {@link ServerConfig}: `Server.builder().build().spawnHttp(listener, router).join()`. In a server
 * process it never resolves; use the builder for a handle that can stop it gracefully.
 */
export function serve<S>(listener: Listener, router: Router<S>): Promise<void> {
  return Server.builder().build().spawnHttp(listener, router).join();
}

/**
 * Serves `router` over prior-knowledge HTTP/2 cleartext on `listener` with the default
 * {@link ServerConfig}: `Server.builder().build().spawnH2c(listener, router, options).join()`.
 * Meant for use behind an L7 proxy you control.
 */
export function serveH2c<S>(listener: Listener, router: Router<S>, options: Partial<H2cOptions> = {}): Promise<void> {
  return Server.builder().build().spawnH2c(listener, router, options).join();
}

/**
 * Serves `router` over TLS (ALPN `h2` and `http/1.1`) on `listener` with the default
 * {@link ServerConfig}, the certificate and key read from PEM files (default `cert.pem` and
 * `key.pem` in the working directory): `Server.builder().tls(TlsCert.pemPaths(certPath,
 * keyPath)).build().spawnTls(listener, router).join()`. Bad material rejects at once.
 */
export function serveTls<S>(listener: Listener, router: Router<S>, certPath = "cert.pem", keyPath = "key.pem"): Promise<void> {
  try {
    return Server.builder().tls(TlsCert.pemPaths(certPath, keyPath)).build().spawnTls(listener, router).join();
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Serves `router` over HTTP/3 (QUIC) on the UDP address `address` with the default
 * {@link ServerConfig}, the certificate and key read from PEM files (default `cert.pem` and
 * `key.pem`): `Server.builder().tls(TlsCert.pemPaths(certPath, keyPath)).build().spawnH3(address,
 * router)`, then its `join()`. Bad material, a bad address or a runtime without an HTTP/3 engine
 * rejects at once.
 */
export async function serveH3<S>(router: Router<S>, address: string, certPath = "cert.pem", keyPath = "key.pem"): Promise<void> {
  const handle = await Server.builder().tls(TlsCert.pemPaths(certPath, keyPath)).build().spawnH3(address, router);
  return handle.join();
}
