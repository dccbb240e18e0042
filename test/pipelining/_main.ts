// Pipelining fixture: a synchronous route and one that answers after {ms} (in flight on purpose
// while the next, malformed, request in the same packet is parsed), served with spawnHttp under
// the config in TAKO_CONFIG (JSON), with the PROXY protocol in TAKO_PROXY's mode when set. Prints
// "READY <port>"; SIGTERM drains it.
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
const builder = Server.builder().config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"));
const proxy = process.env.TAKO_PROXY;
if (proxy === "optional" || proxy === "required") builder.proxyProtocol(proxy);
const handle = builder.build().spawnHttp(listener, router);
await runFixture(handle);
