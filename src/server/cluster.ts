import { type ClusterOptions, clusterWorkerIndex, superviseWorkers, watchPrimary, workerFinished } from "../adapters/shared/cluster.ts";
import { loadEngine } from "./select-engine.ts";

/**
 * Serves on every core: runs `start` in `workers` processes that serve the same ports, on
 * Node.js (`node:cluster`: the primary holds each listening socket and hands connections out),
 * Bun and Deno (child processes binding with `SO_REUSEPORT`: the kernel spreads connections;
 * Linux). Call it at the top of the program; `start` binds and serves as a single process would
 * (`TcpListener.bind` does the sharing in a worker; bind a fixed port, not 0, on Bun and Deno,
 * where each worker binds its own socket).
 *
 * In the primary it resolves once every worker has exited after SIGINT/SIGTERM (forwarded to
 * the workers as SIGTERM, so each drains as its own `shutdownOnSignals` says; workers still
 * running after `shutdownTimeout` are killed), with `process.exitCode` 0; a worker that exits on
 * its own is restarted after a growing delay, and when more than `maxCrashes` exits happen
 * within `crashWindow` the primary stops the others and sets exit code 1. In a worker it runs
 * `start` and resolves when `start` does.
 *
 * ```ts
 * await cluster({ workers: 4 }, async () => {
 *   const handle = Server.builder().build().spawnHttp(await TcpListener.bind("0.0.0.0:8080"), router);
 *   await shutdownOnSignals(handle);
 *   await handle.join();
 * });
 * ```
 */
export async function cluster(options: ClusterOptions, start: () => unknown): Promise<void> {
  const engine = await loadEngine();
  if (clusterWorkerIndex() !== null) {
    watchPrimary();
    try {
      await start();
    } finally {
      workerFinished();
    }
    return;
  }
  await superviseWorkers(engine.runtime, options, (signals, handler) => engine.onSignals(signals, handler));
}

/** The index (1 to `workers`) of this `cluster()` worker, or `null` in the primary and outside a cluster. */
export function workerIndex(): number | null {
  return clusterWorkerIndex();
}
