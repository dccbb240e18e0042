// Bun engine fixture: HTTP/1.1 served with spawnHttp under the config in TAKO_CONFIG (JSON,
// partial ServerConfig). Routes: a sync and an async answer, and a JSON echo. Prints
// "READY <port>"; SIGTERM drains it.
import { Router, Server, TcpListener } from "../../src/index.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = new Router();
router.get("/sync", () => "sync");
router.get("/async", async () => {
  await new Promise((r) => setTimeout(r, 1));
  return "async";
});
router.post("/echo", async (req) => await req.json());

const listener = await TcpListener.bind("127.0.0.1:0");
const handle = Server.builder()
  .config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"))
  .build()
  .spawnHttp(listener, router);
await runFixture(handle);
