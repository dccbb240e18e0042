// Load shedding (maxEventLoopDelay, maxEventLoopUtilization) on the wire: requests that arrive
// while the event loop runs late get 503 + Retry-After before any handler; health paths are
// always served; serving resumes when the loop keeps up. The same scenario without the setting
// serves everything: the 503s come from the setting.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RawConn } from "../_shared/conn.ts";
import { h2, h2Session } from "../_shared/h2-client.ts";
import { startFixture, type Runtime } from "../_shared/spawn.ts";

const FIXTURE = "test/overload/_main.ts";

/**
 * One connection blocks the loop for 600 ms; meanwhile four connections ask for `/` and one for
 * `/livez`. Returns what each got, and then what a request 600 ms after the block got.
 */
async function blockScenario(port: number): Promise<{ blocked: number; during: { status: number; retryAfter: string | undefined; body: string }[]; live: number; after: number }> {
  const conns = await Promise.all(Array.from({ length: 6 }, () => RawConn.open(port)));
  try {
    const [blocker, ...rest] = conns as [RawConn, ...RawConn[]];
    const live = rest.pop()!;
    blocker.get("/block/600");
    // The block has begun well before these arrive (it lasts 600 ms); they wait in the kernel.
    await new Promise((r) => setTimeout(r, 150));
    for (const c of rest) c.get("/");
    live.get("/livez");
    const [b] = await blocker.responses(1, 10_000);
    const during = await Promise.all(
      rest.map(async (c) => {
        const [r] = await c.responses(1, 10_000);
        assert.ok(r !== undefined, "no response to a request sent during the block");
        return { status: r.status, retryAfter: r.headers.find(([n]) => n === "retry-after")?.[1], body: r.body };
      }),
    );
    const [l] = await live.responses(1, 10_000);
    // The measured delay halves every 100 ms: below 100 ms about 250 ms after a 600 ms stall.
    await new Promise((r) => setTimeout(r, 600));
    const again = rest[0]!;
    const before = again.statuses.length;
    again.get("/");
    const all = await again.responses(before + 1, 10_000);
    return { blocked: b?.status ?? 0, during, live: l?.status ?? 0, after: all[before]?.status ?? 0 };
  } finally {
    for (const c of conns) c.destroy();
  }
}

export function overloadSuite(runtime: Runtime): void {
  describe(`load shedding (${runtime})`, () => {
    test("maxEventLoopDelay: requests arriving while the loop runs late get 503 + Retry-After; /livez is served; then serving resumes", { timeout: 30_000 }, async () => {
      const f = await startFixture(runtime, FIXTURE, { TAKO_CONFIG: JSON.stringify({ maxEventLoopDelay: 100 }) });
      try {
        const r = await blockScenario(f.port);
        assert.equal(r.blocked, 200);
        assert.deepEqual(
          r.during.map((d) => d.status),
          [503, 503, 503, 503],
          JSON.stringify(r.during),
        );
        for (const d of r.during) {
          assert.equal(d.retryAfter, "1");
          assert.match(d.body, /overloaded/);
        }
        assert.equal(r.live, 200, "the liveness path is served while shedding");
        assert.equal(r.after, 200, "served again once the loop keeps up");
        // No handler ran for the shed requests: only the one after the block counted.
        const counted = await RawConn.open(f.port);
        counted.get("/handled");
        const [h] = await counted.responses(1);
        counted.destroy();
        assert.equal(h?.body, "1");
      } finally {
        await f.stop();
      }
    });

    test("without the setting, the same requests are all served", { timeout: 30_000 }, async () => {
      const f = await startFixture(runtime, FIXTURE);
      try {
        const r = await blockScenario(f.port);
        assert.deepEqual(
          r.during.map((d) => d.status),
          [200, 200, 200, 200],
        );
      } finally {
        await f.stop();
      }
    });

    test("h2c: a stream opened while the loop runs late gets 503 + Retry-After", { timeout: 30_000 }, async () => {
      const f = await startFixture(runtime, FIXTURE, { TAKO_CONFIG: JSON.stringify({ maxEventLoopDelay: 100 }), TAKO_PROTO: "h2c" });
      const session = await h2Session(f.port);
      try {
        const blocker = await RawConn.open(f.port);
        blocker.get("/block/600");
        await new Promise((r) => setTimeout(r, 150));
        const during = await h2(session, "/");
        assert.equal(during.status, 503);
        assert.equal(during.headers["retry-after"], "1");
        await blocker.responses(1, 10_000);
        blocker.destroy();
        await new Promise((r) => setTimeout(r, 600));
        assert.equal((await h2(session, "/")).status, 200);
      } finally {
        session.destroy();
        await f.stop();
      }
    });

    if (runtime === "node") {
      test("maxEventLoopUtilization: requests get 503 while the loop is kept busy in short slices, and are served after", { timeout: 30_000 }, async () => {
        const f = await startFixture(runtime, FIXTURE, { TAKO_CONFIG: JSON.stringify({ maxEventLoopUtilization: 0.8 }) });
        try {
          const c = await RawConn.open(f.port);
          c.get("/burn/1500");
          await c.responses(1);
          // Utilization is measured over 250 ms windows: well inside the burn.
          await new Promise((r) => setTimeout(r, 700));
          c.get("/");
          const [, during] = await c.responses(2, 10_000);
          assert.equal(during?.status, 503, JSON.stringify(during));
          await new Promise((r) => setTimeout(r, 1500));
          c.get("/");
          const [, , after] = await c.responses(3, 10_000);
          assert.equal(after?.status, 200);
          c.destroy();
        } finally {
          await f.stop();
        }
      });
    } else {
      test("maxEventLoopUtilization is refused at spawn: the runtime reports no utilization", async () => {
        const started = await startFixture(runtime, FIXTURE, { TAKO_CONFIG: JSON.stringify({ maxEventLoopUtilization: 0.8 }) }).catch((e: Error) => e);
        assert.ok(started instanceof Error, "the fixture must not start");
        assert.match(started.message, /TAKO_ERR_UNSUPPORTED|"maxEventLoopUtilization" is not supported/);
      });
    }
  });
}
