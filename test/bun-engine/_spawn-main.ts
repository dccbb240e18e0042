// "No refused window" fixture: ROUNDS times, binds a listener, spawns a server on it (HTTP/1.1,
// h2c, TLS, TLS with HTTP/2 off (tls-h1), HTTP/1.1 behind a PROXY header, or HTTP/1.1 with a router
// that has a WebSocket route (ws), as TAKO_PROTO says), prints "SPAWNED <port>" at once, then blocks its event loop for
// 100 ms: the client's connects arrive while the server cannot accept, so they must be queued by
// a listening socket, never refused. It moves to the next round when the client writes a line on
// stdin (its request was answered), after draining the server.
import { createInterface } from "node:readline";
import { Router, Server, TcpListener, TlsCert } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";

const router = new Router();
router.get("/", () => "ok");
const proto = process.env.TAKO_PROTO ?? "http1";
if (proto === "ws") router.ws("/ws", { message: (ws, data) => void ws.send(data) });
const rounds = Number(process.env.ROUNDS ?? "100");
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

for (let i = 0; i < rounds; i++) {
  const listener = await TcpListener.bind("127.0.0.1:0");
  const c = testCerts().localhost;
  const handle =
    proto === "h2c"
      ? Server.builder().build().spawnH2c(listener, router)
      : proto === "tls" || proto === "tls-h1"
        ? Server.builder()
            .tls(TlsCert.pemPaths(c.cert, c.key))
            .http2(proto === "tls")
            .build()
            .spawnTls(listener, router)
        : proto === "proxy"
          ? Server.builder().proxyProtocol("required").build().spawnHttp(listener, router)
          : Server.builder().build().spawnHttp(listener, router);
  console.log(`SPAWNED ${listener.localAddr().port}`);
  const until = Date.now() + 100;
  while (Date.now() < until) {
    // busy: nothing is accepted while this runs
  }
  await lines.next();
  await handle.shutdown(1000);
}
console.log("DONE");
process.exit(0);
