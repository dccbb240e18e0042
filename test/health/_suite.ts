// A drain a load balancer sees, on the wire: a fake balancer polls /readyz every 100 ms and
// sends traffic (4 keep-alive clients in a loop) only while it answers 200. SIGTERM makes
// readiness fail at once while the server keeps serving for `shutdownDelay`; the balancer
// stops sending within a poll; then the drain runs. Not one request fails across the shutdown.
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { describe, test } from "node:test";
import { startFixture, type Runtime } from "../_shared/spawn.ts";

function get(agent: Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

export function healthSuite(runtime: Runtime): void {
  describe(`health and shutdownDelay on the wire (${runtime})`, () => {
    test("a balancer polling readiness sees 503 at SIGTERM and stops sending; 0 requests fail across the shutdown", { timeout: 30_000 }, async () => {
      const f = await startFixture(runtime, "test/health/_main.ts", { TAKO_CONFIG: JSON.stringify({ shutdownDelay: 600, drainTimeout: 5_000 }) });
      const agent = new Agent({ keepAlive: true, maxSockets: 4 });
      const pollAgent = new Agent({ keepAlive: true, maxSockets: 1 });
      let inRotation = true;
      let ok = 0;
      const failures: string[] = [];
      const poller = (async () => {
        while (inRotation) {
          const status = await get(pollAgent, f.port, "/readyz").catch((e: Error) => `error ${e.message}`);
          if (status !== 200) inRotation = false;
          else await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const client = async (): Promise<void> => {
        while (inRotation) {
          try {
            const status = await get(agent, f.port, "/");
            if (status === 200) ok++;
            else failures.push(`status ${status}`);
          } catch (e) {
            failures.push((e as Error).message);
          }
        }
      };
      const clients = Promise.all([client(), client(), client(), client()]);
      try {
        await new Promise((r) => setTimeout(r, 500));
        const before = ok;
        f.child.kill("SIGTERM");
        await Promise.all([poller, clients]);
        const stopped = await f.waitForLine(/^STOPPED (\d+)/, 10_000);
        assert.deepEqual(failures, [], `${failures.length} requests failed`);
        assert.ok(before > 0, `${ok} served`);
        // The drain began after the delay (600 ms), not at the signal.
        assert.ok(Number(stopped[1]) >= 550, `stopped ${stopped[1]} ms after SIGTERM`);
        assert.equal(await f.exited, 0);
      } finally {
        inRotation = false;
        agent.destroy();
        pollAgent.destroy();
        await f.stop();
      }
    });
  });
}
