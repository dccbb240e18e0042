// cluster() on the wire: workers serving one port, a worker that exits restarted, SIGTERM to the
// primary draining every worker (in-flight requests answered, exit 0), a crash loop ending the
// primary with exit code 1, options checked.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, test } from "node:test";
import { cluster } from "../../src/index.ts";
import { http } from "../_shared/http-client.ts";
import { startFixture, type Fixture, type Runtime } from "../_shared/spawn.ts";

const FIXTURE = "test/cluster/_main.ts";

/** A port free right now (bound and released), for workers that each bind it with SO_REUSEPORT. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Kills whatever the fixture left behind (a failed test must not leave workers on the port). */
async function cleanup(f: Fixture, pids: Iterable<number>): Promise<void> {
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
  await f.stop();
}

export function clusterSuite(runtime: Runtime): void {
  describe(`cluster() (${runtime})`, () => {
    test("two workers serve one port; a worker that exits is restarted; SIGTERM drains every worker's in-flight requests and the primary exits 0", {
      timeout: 90_000,
    }, async () => {
      const port = await freePort();
      const f = await startFixture(runtime, FIXTURE, { PORT: String(port), WORKERS: "2" });
      const pids = new Set<number>();
      try {
        pids.add(Number((await f.waitForLine(/^WORKER 1 (\d+)$/, 30_000))[1]));
        pids.add(Number((await f.waitForLine(/^WORKER 2 (\d+)$/, 30_000))[1]));
        // New connections reach both workers (Node: the primary hands them out in turn; Bun and
        // Deno: the kernel spreads them by address and port).
        const answered = new Set<number>();
        for (let i = 0; i < 200 && answered.size < 2; i++) answered.add((JSON.parse((await http(port, "/")).text) as { pid: number }).pid);
        assert.deepEqual([...answered].sort(), [...pids].sort(), "both workers answer");

        // A worker that exits on its own is replaced.
        const gone = JSON.parse((await http(port, "/exit/7")).text) as { pid: number; worker: number };
        const replacement = Number((await f.waitForLine(new RegExp(`^WORKER ${gone.worker} (?!${gone.pid}$)(\\d+)$`), 30_000))[1]);
        pids.add(replacement);
        assert.notEqual(replacement, gone.pid);
        const now = new Set<number>();
        for (let i = 0; i < 200 && now.size < 2; i++) now.add((JSON.parse((await http(port, "/")).text) as { pid: number }).pid);
        assert.ok(now.has(replacement), "the replacement serves");
        assert.ok(!alive(gone.pid), "the worker that exited is gone");

        // SIGTERM to the primary while requests are in flight on both workers: all are answered.
        const inFlight = Array.from({ length: 8 }, () => http(port, "/slow/1500"));
        await new Promise((r) => setTimeout(r, 400));
        f.child.kill("SIGTERM");
        const results = await Promise.all(inFlight.map((p) => p.catch((e: Error) => e)));
        const failed = results.filter((r) => r instanceof Error || r.status !== 200);
        assert.deepEqual(failed, [], "every request in flight at SIGTERM is answered");
        assert.ok(new Set(results.map((r) => (JSON.parse((r as { text: string }).text) as { pid: number }).pid)).size >= 1);
        await f.waitForLine(/^PRIMARY-EXIT 0$/, 30_000);
        assert.equal(await f.exited, 0);
        for (const pid of pids) assert.ok(!alive(pid), `worker ${pid} still running after the primary exited`);
      } finally {
        await cleanup(f, pids);
      }
    });

    test("workers that keep crashing stop the cluster with exit code 1", { timeout: 60_000 }, async () => {
      const port = await freePort();
      // Worker 2 exits at once every time; worker 1 serves (it provides READY).
      const f = await startFixture(runtime, FIXTURE, { PORT: String(port), WORKERS: "2", CRASH: "2", MAX_CRASHES: "3" });
      const pids = new Set<number>();
      try {
        pids.add(Number((await f.waitForLine(/^WORKER 1 (\d+)$/, 30_000))[1]));
        await f.waitForLine(/^PRIMARY-EXIT 1$/, 45_000);
        assert.equal(await f.exited, 1);
        assert.match(f.stderr(), /more than 3 crashes/);
        for (const pid of pids) assert.ok(!alive(pid), `worker ${pid} still running after the primary gave up`);
      } finally {
        await cleanup(f, pids);
      }
    });
  });
}

describe("cluster() options", () => {
  for (const [options, message] of [
    [{ workers: 0 }, /"workers" must be an integer >= 1; got 0/],
    [{ workers: 1.5 }, /"workers" must be an integer >= 1/],
    [{ restartBackoff: { initial: 100, max: 10 } }, /"restartBackoff.max" must be an integer >= 100/],
    [{ shutdownTimeout: -1 }, /"shutdownTimeout" must be an integer >= 1/],
    [{ command: [] }, /"command" must be a non-empty array of strings/],
    [{ worker: 2 }, /cluster option "worker" must be one of workers, /],
  ] as const) {
    test(`${JSON.stringify(options)} is refused before any worker starts`, async () => {
      await assert.rejects(
        cluster(options as never, () => assert.fail("start must not run in the primary")),
        (e: Error & { code?: string }) => e.code === "TAKO_ERR_CONFIG" && message.test(e.message),
      );
    });
  }
});
