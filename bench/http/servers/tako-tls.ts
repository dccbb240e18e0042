// tako over TLS with the development certificate (what `serveTls` runs: ALPN h2 and http/1.1, so
// the same file serves the HTTPS/1.1 and the HTTP/2-over-TLS benches), on Node (tsx), Bun and Deno.
import { Server, TlsCert } from "../../../src/index.ts";
import { serveTako } from "./_tako.ts";
import { TLS } from "./_tls.ts";

await serveTako((listener, router) => Server.builder().tls(TlsCert.pemPaths(TLS.cert, TLS.key)).build().spawnTls(listener, router));
