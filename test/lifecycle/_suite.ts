// Server lifecycle on the wire: graceful drain, drain deadline, connection cap, slowloris,
// keep-alive settings. One fixture process per scenario (each ends with the server stopped),
// probed with raw sockets and stopped with a real SIGTERM through shutdownOnSignals.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, test } from "node:test";
import { RawConn, tryConnect } from "../_shared/conn.ts";
import { startFixture, type Fixture, type Runtime } from "../_shared/spawn.ts";

function start(runtime: Runtime, config: Record<string, unknown> = {}, fdLimit?: number): Promise<Fixture> {
  return startFixture(runtime, "test/lifecycle/_main.ts", { TAKO_CONFIG: JSON.stringify(config) }, fdLimit === undefined ? {} : { fdLimit });
}

/** `promise`, or a failure naming `what` after `ms`: a lifecycle bug must fail, not hang. Not a timing assertion: `ms` is generous. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);
}

async function stopped(f: Fixture): Promise<number> {
  const m = await f.waitForLine(/^STOPPED (\d+)$/, 20_000);
  assert.equal(await f.exited, 0);
  return Number(m[1]);
}

export function lifecycleSuite(runtime: Runtime): void {
  const label = `${runtime}, ${runtime === "node" ? "node:http" : `${runtime === "bun" ? "Bun.listen" : "Deno.listen"} + codec`}`;

  describe(`graceful drain (${label})`, () => {
    // The test's timeout is below the 30 s drainTimeout: join() must end when the in-flight
    // requests are done, not at the deadline.
    test("in-flight requests finish with Connection: close, idle connections close at once, new connects are refused", { timeout: 25_000 }, async () => {
      const f = await start(runtime);
      try {
        const idle = await RawConn.open(f.port);
        idle.get("/");
        assert.ok(await idle.waitFor(/\r\n\r\nok$/));
        // Three handlers in flight for 1.5 s on purpose; the fixture says when each started.
        const busy = await Promise.all([0, 1, 2].map(() => RawConn.open(f.port)));
        busy.forEach((c, i) => {
          c.get(`/slow/1500?tag=busy${i}`);
        });
        for (let i = 0; i < busy.length; i++) await f.waitForLine(new RegExp(`^HANDLING busy${i}$`));
        const unanswered = (): boolean => busy.every((c) => c.text === "");
        f.child.kill("SIGTERM");
        // "At once": the idle connection is closed while the in-flight requests are still running.
        await within(idle.closed, 10_000, "idle connection close");
        assert.ok(unanswered(), "the idle connection was closed only after the in-flight requests finished");
        // Refused during the drain (Deno's node:net closes its listener a moment after the signal).
        let refused = "";
        for (let attempt = 0; attempt < 200 && refused !== "ECONNREFUSED"; attempt++) {
          refused = await tryConnect(f.port);
          if (refused !== "ECONNREFUSED") await new Promise((r) => setTimeout(r, 5));
        }
        assert.equal(refused, "ECONNREFUSED", "new connects are still accepted during the drain");
        assert.ok(unanswered(), "new connects were refused only after the in-flight requests finished");
        for (const c of busy) {
          assert.ok(await c.waitFor(/slept 1500$/, 10_000), `in-flight response: ${JSON.stringify(c.text)}`);
          assert.deepEqual(c.statuses, [200]);
          assert.match(c.text, /\r\nconnection: close\r\n/i);
          await within(c.closed, 10_000, "close after the in-flight response");
        }
        await stopped(f);
      } finally {
        await f.stop();
      }
    });

    test("a handler that never finishes is cut at drainTimeout", { timeout: 30_000 }, async () => {
      const f = await start(runtime, { drainTimeout: 600 });
      try {
        const hung = await RawConn.open(f.port);
        hung.get("/hang?tag=hung");
        await f.waitForLine(/^HANDLING hung$/);
        const signalled = Date.now();
        f.child.kill("SIGTERM");
        const closedAt = await within(hung.closed, 15_000, "hung connection close");
        const ms = await stopped(f);
        // Not before the deadline (600 ms, less timer slack); that it comes at all is bounded above.
        assert.ok(closedAt - signalled >= 500, `hung connection closed after ${closedAt - signalled} ms`);
        assert.ok(ms >= 550, `join() after ${ms} ms`);
        // Where the runtime cannot destroy the connection (Deno.serve), the handler is answered 503.
        assert.ok(hung.statuses.length === 0 || hung.statuses[0] === 503, hung.text);
      } finally {
        await f.stop();
      }
    });
  });

  if (runtime === "bun") {
    // Bun.serve's own idle timeout (10 s) cut a request whose handler took longer, with no
    // response at all (measured); tako lifts it while a handler works. 15 s because Bun checks
    // its timeouts in ticks of a few seconds (a cut came 10–14 s in when measured).
    test("a handler working, or a stream pausing, longer than Bun's 10 s idle timeout is not cut", async () => {
      const f = await start(runtime);
      try {
        const slow = await RawConn.open(f.port);
        const gap = await RawConn.open(f.port);
        slow.get("/slow/15000");
        gap.get("/gap/15000");
        const [answered, streamed] = await Promise.all([slow.waitFor(/slept 15000$/, 20_000), gap.waitFor(/second\n(\r\n)?0\r\n\r\n$/, 20_000)]);
        assert.ok(answered, `no answer: ${JSON.stringify(slow.text)}`);
        assert.deepEqual(slow.statuses, [200]);
        assert.ok(streamed, `stream cut: ${JSON.stringify(gap.text)}`);
      } finally {
        await f.stop();
      }
    });
  }

  describe(`accept errors (${label})`, () => {
    test("EMFILE with the cap lifted (maxConnections above the limit): flooded past its descriptor limit, the server survives and serves once they close", {
      timeout: 30_000,
    }, async () => {
      const f = await start(runtime, { maxConnections: 100_000 }, 128);
      try {
        const flood = await Promise.all(Array.from({ length: 250 }, () => RawConn.open(f.port).catch(() => null)));
        // Wait until the server holds its whole descriptor allowance: it has run into EMFILE.
        // (Bun.serve took about a second to accept the flood when measured.)
        const fds = (): number => readdirSync(`/proc/${f.child.pid}/fd`).length;
        let held = fds();
        for (let attempt = 0; attempt < 200 && held < 120; attempt++) {
          await new Promise((r) => setTimeout(r, 50));
          held = fds();
        }
        assert.ok(held >= 120, `the server never reached its descriptor limit (128): it holds ${held}`);
        for (const c of flood) c?.destroy();
        let served = false;
        const deadline = Date.now() + 15_000;
        while (!served && Date.now() < deadline) {
          const c = await RawConn.open(f.port).catch(() => null);
          if (c !== null) {
            c.get("/");
            served = await c.waitFor(/ok$/, 500);
            c.destroy();
          }
          if (!served) await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(served, `not serving after the flood; stderr: ${f.stderr().slice(0, 500)}`);
        assert.equal(f.child.exitCode, null, "the server process died");
      } finally {
        await f.stop();
      }
    });

    test("descriptor exhaustion: flooded with idle connections past its descriptor limit, the server keeps serving", {
      timeout: 60_000,
    }, async () => {
      // 128 descriptors: the default cap (maxConnections null) is 128 less 64 kept for the rest
      // of the process. 250 idle connections (the attack) stay open while honest clients come.
      const f = await start(runtime, {}, 128);
      try {
        const fds = (): number => readdirSync(`/proc/${f.child.pid}/fd`).length;
        const flood = await Promise.all(Array.from({ length: 250 }, () => RawConn.open(f.port).catch(() => null)));
        const tryOnce = async (): Promise<boolean> => {
          const c = await RawConn.open(f.port).catch(() => null);
          if (c === null) return false;
          c.get("/");
          const ok = await c.waitFor(/ok$/, 500);
          c.destroy();
          return ok;
        };
        const servedWithin = async (ms: number): Promise<number | null> => {
          const started = Date.now();
          while (Date.now() - started < ms) {
            if (await tryOnce()) return Date.now() - started;
            await new Promise((r) => setTimeout(r, 50));
          }
          return null;
        };
        // While the attack goes on: idle connections older than a second are shed for new ones.
        const during = await servedWithin(5_000);
        assert.ok(during !== null, `no honest request served within 5 s while 250 idle connections were open; stderr: ${f.stderr().slice(0, 500)}`);
        assert.ok(fds() < 128, `the server holds ${fds()} descriptors: it ran into its limit`);
        for (const c of flood) c?.destroy();
        // An accept that met EMFILE during the flood waits out its backoff (up to acceptBackoff.max,
        // 1 s) before it tries again: seen on Deno, whose accept still meets EMFILE then.
        const after = await servedWithin(2_500);
        assert.ok(after !== null, "not served within 2.5 s after the attack stopped");
        assert.equal(f.child.exitCode, null, "the server process died");
      } finally {
        await f.stop();
      }
    });

    test("descriptor exhaustion by slow uploads: stalled bodies are shed, honest clients are served during the attack", {
      timeout: 60_000,
    }, async () => {
      const f = await start(runtime, {}, 128);
      const flood: RawConn[] = [];
      const drip = setInterval(() => {
        for (const c of flood) if (!c.isClosed) c.send("1\r\nx\r\n");
      }, 1000);
      try {
        // 200 uploads at 1 byte/s (the body deadline would cut them only after 20 s).
        for (let i = 0; i < 200; i++) {
          const c = await RawConn.open(f.port).catch(() => null);
          if (c === null) continue;
          c.send("POST /upload HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n1\r\nx\r\n");
          flood.push(c);
        }
        const started = Date.now();
        let served = false;
        while (!served && Date.now() - started < 8_000) {
          const c = await RawConn.open(f.port).catch(() => null);
          if (c !== null) {
            c.get("/");
            served = await c.waitFor(/ok$/, 500);
            c.destroy();
          }
          if (!served) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(served, `no honest request served within 8 s during the slow-upload attack; stderr: ${f.stderr().slice(0, 500)}`);
        assert.equal(f.child.exitCode, null, "the server process died");
      } finally {
        clearInterval(drip);
        for (const c of flood) c.destroy();
        await f.stop();
      }
    });
  });

  describe(`keep-alive settings (${label})`, () => {
    test("keepAlive: false closes after each response", async () => {
      const f = await start(runtime, { keepAlive: false });
      try {
        const c = await RawConn.open(f.port);
        c.get("/");
        await within(c.closed, 10_000, "close after the response");
        assert.deepEqual(c.statuses, [200]);
        assert.match(c.text, /\r\nconnection: close\r\n/i);
      } finally {
        await f.stop();
      }
    });

    // Every runtime keeps these (on Bun and Deno: tako's deadline sweep and cap on the raw sockets).
    test("keepAliveTimeout closes idle connections on time", { timeout: 30_000 }, async () => {
      const f = await start(runtime, { keepAliveTimeout: 400 });
      try {
        const c = await RawConn.open(f.port);
        c.get("/");
        assert.ok(await c.waitFor(/ok$/));
        const answered = Date.now();
        const closedAt = await within(c.closed, 15_000, "idle close");
        // Not before the timeout (400 ms, less slack); that it comes at all is bounded above.
        assert.ok(closedAt - answered >= 300, `idle connection closed after ${closedAt - answered} ms`);
      } finally {
        await f.stop();
      }
    });

    test("headerReadTimeout: a slowloris client is cut, others are served meanwhile", { timeout: 30_000 }, async () => {
      const f = await start(runtime, { headerReadTimeout: 500 });
      try {
        const slow = await RawConn.open(f.port);
        const head = `GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ${"a".repeat(100)}`;
        let i = 0;
        // The slowloris: one byte every 50 ms, on purpose.
        const trickle = setInterval(() => (i < head.length && !slow.isClosed ? slow.send(head[i++]!) : undefined), 50);
        const started = Date.now();
        const other = await RawConn.open(f.port);
        other.get("/");
        assert.ok(await other.waitFor(/ok$/, 10_000));
        const closedAt = await within(slow.closed, 15_000, "slowloris cut");
        clearInterval(trickle);
        // Not before the deadline (500 ms, less slack): the trickle alone would take 5 s.
        assert.ok(closedAt - started >= 400, `slowloris cut after ${closedAt - started} ms`);
        assert.ok(slow.statuses.length === 0 || slow.statuses[0] === 408, slow.text);
      } finally {
        await f.stop();
      }
    });

    test("maxConnections: beyond the cap a connection gets 503 and is closed; a reset frees its slot", { timeout: 30_000 }, async () => {
      const f = await start(runtime, { maxConnections: 2 });
      try {
        // Two connections hold the slots (counted from accept, before any request); the
        // server accepts in connect order, so the third is the one over the cap.
        const conns = [await RawConn.open(f.port), await RawConn.open(f.port), await RawConn.open(f.port)];
        const over = conns[2]!;
        await within(over.closed, 10_000, "close of the connection over the cap");
        assert.match(over.text, /^HTTP\/1\.1 503 /);
        const [a, b] = conns.filter((x) => x !== over) as [RawConn, RawConn];
        a.reset();
        await within(a.closed, 10_000, "reset");
        // The server sees the reset a moment later; retry briefly until the slot is free.
        let served = false;
        for (let attempt = 0; attempt < 20 && !served; attempt++) {
          const d = await RawConn.open(f.port);
          d.get("/");
          served = await d.waitFor(/ok$/, 500);
          d.destroy();
          if (!served) await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(served, "the slot of the reset connection was never released");
        b.get("/");
        assert.ok(await b.waitFor(/ok$/), "a connection within the cap is served");
      } finally {
        await f.stop();
      }
    });
  });
}
