// The contract fixture: one process serving the contract app on four listeners at once, each
// with the default config: HTTP/1.1 (spawnHttp), h2c (spawnH2c, prior knowledge only), TLS
// (spawnTls with the localhost certificate; ALPN h2 and http/1.1) and HTTP/1.1 behind
// proxyProtocol("required"). Prints "LISTEN <name> <port>" for each, then "READY <h1 port>".
import { Server, TcpListener, TlsCert, type ServerHandle } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { fixtureApp } from "./_app.ts";

const certs = testCerts();
const router = fixtureApp();
const bind = (): Promise<TcpListener> => TcpListener.bind("127.0.0.1:0");

const handles: [name: string, handle: ServerHandle][] = [
  [
    "h1",
    Server.builder()
      .build()
      .spawnHttp(await bind(), router),
  ],
  [
    "h2c",
    Server.builder()
      .build()
      .spawnH2c(await bind(), router),
  ],
  [
    "tls",
    Server.builder()
      .tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key))
      .build()
      .spawnTls(await bind(), router),
  ],
  [
    "proxy",
    Server.builder()
      .proxyProtocol("required")
      .build()
      .spawnHttp(await bind(), router),
  ],
];
await Promise.all(handles.map(([, handle]) => handle.ready()));
for (const [name, handle] of handles) console.log(`LISTEN ${name} ${handle.localAddr().port}`);
console.log(`READY ${handles[0]![1].localAddr().port}`);
