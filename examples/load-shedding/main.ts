// Load shedding: while the event loop runs more than MAX_DELAY ms late (default 100), new requests
// get 503 with Retry-After: 1 before any route runs, instead of queueing behind the backlog;
// /livez and /readyz are always answered.
//   node --import tsx examples/load-shedding/main.ts     (or bun / deno run -A)
// Then: curl http://127.0.0.1:3000/work/800 & sleep 0.2; curl -i http://127.0.0.1:3000/
// The second curl gets 503 while /work/800 holds the event loop; a moment later / answers 200.
import { Router, Server, shutdownOnSignals, TcpListener } from "../../src/index.ts";

const router = new Router().health();
router.get("/", () => "ok");
// Stands for a CPU-heavy handler: it holds the event loop for {ms}.
router.get("/work/{ms}", (req) => {
  const end = performance.now() + Number(req.params.ms);
  while (performance.now() < end) {}
  return `worked ${req.params.ms} ms`;
});

const server = Server.builder()
  .config({ maxEventLoopDelay: Number(process.env.MAX_DELAY ?? 100) })
  .build();
const handle = server.spawnHttp(await TcpListener.bind(process.env.ADDR ?? "127.0.0.1:3000"), router);
await handle.ready();
await shutdownOnSignals(handle);
const { address, port } = handle.localAddr();
console.log(`listening on http://${address}:${port}; maxEventLoopDelay ${server.config.maxEventLoopDelay} ms`);
await handle.join();
