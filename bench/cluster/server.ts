// Cluster bench server: cluster({ workers: $WORKERS }) serving GET / on 127.0.0.1:$PORT. Each
// worker prints "READY <port>" once serving and "HANDLED <n>" (requests its handler answered)
// when it has drained after SIGTERM; the same file runs on Node (tsx), Bun and Deno.
import { cluster, Router, Server, shutdownOnSignals, TcpListener } from "../../src/index.ts";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
await cluster({ workers: Number(env.WORKERS ?? 1) }, async () => {
  let handled = 0;
  const router = new Router();
  router.get("/", () => (handled++, "Hello, World!"));
  const listener = await TcpListener.bind(`127.0.0.1:${env.PORT}`);
  const handle = Server.builder().build().spawnHttp(listener, router);
  await handle.ready();
  await shutdownOnSignals(handle);
  console.log(`READY ${listener.localAddr().port}`);
  await handle.join();
  console.log(`HANDLED ${handled}`);
});
