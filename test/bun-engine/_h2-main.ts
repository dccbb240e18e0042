// Bun engine h2c fixture: spawnH2c under the config in TAKO_CONFIG (JSON, partial ServerConfig),
// `{ http1 }` from TAKO_H2C_HTTP1 ("1": HTTP/1.1 on the same port). With TAKO_SPAWN_AFTER=<ms>
// it prints "READY <port>" right after binding and spawns only that much later (connections
// made meanwhile wait on the bound socket), then prints "SPAWNED". Routes: /sync, /hold/{ms},
// /conn (req.conn and Host as JSON), POST /echo (the body back). With TAKO_TLS=1, spawnTls with
// the localhost test certificate instead (ALPN h2 and http/1.1). SIGTERM drains it.
import { Router, Server, TcpListener, TlsCert } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = new Router();
router.get("/sync", () => "sync");
router.get("/hold/{ms}", async (req) => {
  await new Promise((r) => setTimeout(r, Number(req.params.ms)));
  return `held ${req.params.ms}`;
});
router.get("/conn", (req) => ({
  alpn: req.conn.tls?.alpnProtocol ?? null,
  httpVersion: req.conn.httpVersion,
  remoteAddress: req.conn.remoteAddress,
  localPort: req.conn.localPort,
  host: req.header("host"),
  cookie: req.header("cookie"),
}));
router.post("/echo", async (req) => new Uint8Array(await req.bytes()));

const listener = await TcpListener.bind("127.0.0.1:0");
const after = Number(process.env.TAKO_SPAWN_AFTER ?? "0");
if (after > 0) {
  console.log(`READY ${listener.localAddr().port}`);
  await new Promise((r) => setTimeout(r, after));
}
const builder = Server.builder().config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"));
const cert = testCerts().localhost;
const handle =
  process.env.TAKO_TLS === "1"
    ? builder.tls(TlsCert.pemPaths(cert.cert, cert.key)).build().spawnTls(listener, router)
    : builder.build().spawnH2c(listener, router, { http1: process.env.TAKO_H2C_HTTP1 === "1" });
if (after > 0) console.log("SPAWNED");
await runFixture(handle);
