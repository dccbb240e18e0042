// Cluster fixture: cluster({ workers: $WORKERS }) where each worker serves GET / (its pid and
// index), GET /slow/{ms} and GET /exit/{code} (the worker exits on its own) on 127.0.0.1:$PORT,
// and prints "READY <port>" and "WORKER <index> <pid>"; SIGTERM to the primary drains every worker. A worker whose
// index is in $CRASH exits with code 3 at once (a crash loop). The primary prints
// "PRIMARY-EXIT <code>" when it is done.
import { cluster, Router, Server, shutdownOnSignals, TcpListener, workerIndex } from "../../src/index.ts";

const env = process.env;
await cluster(
  { workers: Number(env.WORKERS ?? 2), restartBackoff: { initial: 50, max: 200 }, maxCrashes: Number(env.MAX_CRASHES ?? 5), crashWindow: 10_000, shutdownTimeout: 10_000 },
  async () => {
    if ((env.CRASH ?? "").split(",").includes(String(workerIndex()))) process.exit(3);
    const router = new Router();
    router.get("/", () => ({ pid: process.pid, worker: workerIndex() }));
    router.get("/slow/{ms}", async (req) => {
      await new Promise((r) => setTimeout(r, Number(req.params.ms)));
      return { pid: process.pid, slept: Number(req.params.ms) };
    });
    router.get("/exit/{code}", (req) => {
      setTimeout(() => process.exit(Number(req.params.code)), 10);
      return { pid: process.pid, worker: workerIndex() };
    });
    const listener = await TcpListener.bind(`127.0.0.1:${env.PORT ?? 0}`);
    const handle = Server.builder().config({ drainTimeout: 5_000 }).build().spawnHttp(listener, router);
    await handle.ready();
    await shutdownOnSignals(handle);
    console.log(`READY ${listener.localAddr().port}`);
    console.log(`WORKER ${workerIndex()} ${process.pid}`);
    await handle.join();
  },
);
if (workerIndex() === null) console.log(`PRIMARY-EXIT ${process.exitCode ?? 0}`);
