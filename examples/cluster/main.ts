// Every core behind HAProxy: cluster() starts WORKERS processes (default: one per core) serving
// one port; HAProxy in front passes each client's address with the PROXY protocol v2.
//   node --import tsx examples/cluster/main.ts     (or bun / deno run -A)
//   FRONT_PORT=8000 BACKEND_PORT=3000 haproxy -db -f examples/cluster/haproxy.cfg
// Then: curl http://127.0.0.1:8000/ a few times (the answers come from different workers);
// kill -TERM <primary pid> drains every worker.
import { cluster, Router, Server, shutdownOnSignals, TcpListener, workerIndex } from "../../src/index.ts";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const workers = env.WORKERS === undefined ? {} : { workers: Number(env.WORKERS) };

await cluster(workers, async () => {
  const router = new Router().health({ live: "/healthz" });
  router.get("/", (req) => ({ worker: workerIndex(), client: `${req.conn.remoteAddress}:${req.conn.remotePort}` }));
  // A fixed port: on Bun and Deno every worker binds it (SO_REUSEPORT); on Node the primary does.
  const listener = await TcpListener.bind(env.ADDR ?? "127.0.0.1:3000");
  const handle = Server.builder().proxyProtocol("required").build().spawnHttp(listener, router);
  await handle.ready();
  await shutdownOnSignals(handle);
  const { address, port } = handle.localAddr();
  console.log(`worker ${workerIndex()} listening on http://${address}:${port}`);
  await handle.join();
});
