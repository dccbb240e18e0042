// Health fixture: router.health() and GET / served with spawnHttp under the config in
// TAKO_CONFIG (JSON). Prints "READY <port>"; SIGTERM shuts it down (shutdownDelay, then the drain).
import { Router, Server, TcpListener } from "../../src/index.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = new Router().health();
router.get("/", () => "ok");
const listener = await TcpListener.bind("127.0.0.1:0");
const handle = Server.builder()
  .config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"))
  .build()
  .spawnHttp(listener, router);
await runFixture(handle);
