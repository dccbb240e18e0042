// Fixture of test/bun-engine/ws.test.ts: a router with a WebSocket route (/echo) and an ordinary
// one (/plain), served with spawnHttp, or with spawnH2c and HTTP/1.1 on the same port
// (TAKO_H2C_HTTP1=1). With TAKO_SPAWN_AFTER=<ms> it prints "READY <port>" right after binding and
// spawns only that much later (connections made meanwhile wait on the bound socket), then prints
// "SPAWNED". SIGTERM drains it.
import { Router, Server, TcpListener } from "../../src/index.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = new Router();
router.ws("/echo", { message: (ws, data) => void ws.send(data) });
router.get("/plain", () => "plain");

const listener = await TcpListener.bind("127.0.0.1:0");
const after = Number(process.env.TAKO_SPAWN_AFTER ?? "0");
if (after > 0) {
  console.log(`READY ${listener.localAddr().port}`);
  await new Promise((r) => setTimeout(r, after));
}
const server = Server.builder().build();
const handle = process.env.TAKO_H2C_HTTP1 === "1" ? server.spawnH2c(listener, router, { http1: true }) : server.spawnHttp(listener, router);
if (after > 0) console.log("SPAWNED");
await runFixture(handle);
