// tako over TLS with the development certificate chosen by a resolver (`TlsCert.resolver`): the
// path a server with SNI certificates or reloads takes. On Deno that is Deno's node:tls over each
// `Deno.listen` connection (`Deno.listenTls` cannot consult a resolver tako controls); on Bun the
// ClientHello is read first, then `upgradeTLS`; on Node, node:tls's SNI callback.
import { Server, TlsCert } from "../../../src/index.ts";
import { serveTako } from "./_tako.ts";
import { TLS } from "./_tls.ts";

const cert = TlsCert.pemPaths(TLS.cert, TLS.key);
await serveTako((listener, router) =>
  Server.builder()
    .tls(TlsCert.resolver(() => cert))
    .build()
    .spawnTls(listener, router),
);
