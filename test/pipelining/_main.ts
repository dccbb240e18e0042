// Pipelining fixture: a synchronous route and one that answers after {ms} (in flight on purpose
// while the next, malformed, request in the same packet is parsed), served with spawnHttp under
// the config in TAKO_CONFIG (JSON). Prints "READY <port>"; SIGTERM drains it.
import { Router, Server, TcpListener } from "../../src/index.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = new Router();
router.onError(() => {});
router.get("/sync", () => "sync");
router.get("/async/{ms}", async (req) => {
  await new Promise((r) => setTimeout(r, Number(req.params.ms)));
  return `async ${req.params.ms}`;
});

const listener = await TcpListener.bind("127.0.0.1:0");
const handle = Server.builder()
  .config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"))
  .build()
  .spawnHttp(listener, router);
await runFixture(handle);
