// tako over TLS with HTTP/2 switched off (ALPN offers only http/1.1), for the HTTPS/1.1 and
// handshake benches: on Bun this is served on Bun.listen (upgradeTLS) with tako's HTTP/1.1 codec.
import { Server, TlsCert } from "../../../src/index.ts";
import { serveTako } from "./_tako.ts";
import { TLS } from "./_tls.ts";

await serveTako((listener, router) => Server.builder().tls(TlsCert.pemPaths(TLS.cert, TLS.key)).http2(false).build().spawnTls(listener, router));
