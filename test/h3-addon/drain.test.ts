// The HTTP/3 drain with the addon (Node.js and Deno). The addon cannot send GOAWAY, so tako's
// drain refuses new connections and streams, lets in-flight requests finish and closes each
// connection after its last one, and cuts what is left at min(h3GoawayGrace, drainTimeout).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startFixture, type Runtime } from "../_shared/spawn.ts";
import { gtls } from "./_client.ts";

for (const runtime of ["node", "deno"] as Runtime[]) {
  describe(`HTTP/3 drain with the addon on ${runtime}`, () => {
    test("SIGTERM with a request in flight: it completes, a new connection is refused, then the server stops", async () => {
      const f = await startFixture(runtime, "test/h3-addon/_server.ts");
      try {
        const inFlight = gtls(f.port, "/slow/1500");
        await f.waitForLine(/^SLOW 1500$/);
        const signalled = Date.now();
        f.child.kill("SIGTERM");
        await new Promise((resolve) => setTimeout(resolve, 200));
        const late = await gtls(f.port, "/", { timeoutMs: 5_000 });
        assert.equal(late.status, null, "a connection opened during the drain gets no response");
        const r = await inFlight;
        assert.equal(r.status, 200, r.log.slice(-2000));
        assert.equal(r.body.toString(), "slow done");
        const [, ms] = await f.waitForLine(/^STOPPED (\d+)$/, 10_000);
        assert.ok(Number(ms) >= 1_000, `the drain waited for the request in flight (${ms} ms)`);
        assert.equal(await f.exited, 0);
        assert.ok(Date.now() - signalled < 8_000);
      } finally {
        await f.stop();
      }
    });

    test("a request still running at h3GoawayGrace (300 ms) is cut and the server stops", async () => {
      const f = await startFixture(runtime, "test/h3-addon/_server.ts", { TAKO_CONFIG: JSON.stringify({ h3GoawayGrace: 300 }) });
      try {
        const inFlight = gtls(f.port, "/slow/5000", { timeoutMs: 10_000 });
        await f.waitForLine(/^SLOW 5000$/);
        f.child.kill("SIGTERM");
        const [, ms] = await f.waitForLine(/^STOPPED (\d+)$/, 10_000);
        assert.ok(Number(ms) >= 250 && Number(ms) < 3_000, `stopped at the grace, not after the handler (${ms} ms)`);
        const r = await inFlight;
        assert.equal(r.status, null, "the cut request got no response");
        assert.match(r.log, /CONNECTION_CLOSE/, "the server closed the connection");
      } finally {
        await f.stop();
      }
    });
  });
}
