// A production-style server: limits from the builder, graceful drain on SIGINT/SIGTERM.
//   node --import tsx examples/graceful-shutdown/main.ts     (or bun / deno run -A)
// Then: curl http://127.0.0.1:3000/work/2000 & kill -TERM <pid>
// The in-flight request still completes (with Connection: close); new connects are refused.
import { Router, Server, shutdownOnSignals, TcpListener } from "../../src/index.ts";

const router = new Router();
router.get("/", () => "ok");
router.get("/work/{ms}", async (req) => {
  await new Promise((r) => setTimeout(r, Math.min(Number(req.params.ms) || 0, 10_000)));
  return { done: true, ms: Number(req.params.ms) };
});

const server = Server.builder()
  .config({
    drainTimeout: 10_000, // in-flight requests get 10 s after the signal, then connections are cut
    maxConnections: 1_000, // more are answered 503 and closed
    headerReadTimeout: 10_000, // slowloris: a request head must arrive within 10 s
  })
  .build();

const listener = await TcpListener.bind(process.env.ADDR ?? "127.0.0.1:3000");
const handle = server.spawnHttp(listener, router);
await handle.ready();
await shutdownOnSignals(handle);
const { address, port } = handle.localAddr();
console.log(`listening on http://${address}:${port} (pid ${process.pid}); SIGTERM drains gracefully`);
await handle.join();
console.log("stopped: every in-flight request answered");
