// tako serving the bench routes over TLS (h2, http/1.1) and HTTP/3 on one port number:
// spawnTls(listener, router, { http3: true }), whose HTTP/3 side is exactly what spawnH3 serves.
import { Server, TcpListener, TlsCert } from "../../../src/index.ts";
import { benchRouter } from "../../http/servers/_tako.ts";
import { TLS } from "../../http/servers/_tls.ts";

const port = Number(process.env.PORT ?? "0");
const listener = await TcpListener.bind(`127.0.0.1:${port}`);
const handle = Server.builder().tls(TlsCert.pemPaths(TLS.cert, TLS.key)).build().spawnTls(listener, benchRouter(), { http3: true });
await handle.ready();
console.log(`READY ${listener.localAddr().port}`);
await handle.join();
