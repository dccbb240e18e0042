// Cancellation on the wire (issue 13): req.signal aborts when the client leaves mid-handler
// (HTTP/1.1 connection closed, HTTP/2 stream reset: that stream only), at a handler timeout
// (503) and at the drain deadline, each with its own code; a streamed body's source is
// cancelled at once when its client leaves (the next chunk is 10 s away); and a signal that was
// read is never aborted by a normal completion (10,000 requests over HTTP/1.1). Over h1, h2c,
// TLS (h1 and h2 by ALPN) and PROXY (then TLS), on each runtime.
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { describe, test } from "node:test";
import { type Fixture, startFixture, useFixture, type Runtime } from "../_shared/spawn.ts";
import { h1Call, h2Call, h2Open, isH2, type Wire } from "./_clients.ts";

/** How soon after the client left the server must have noticed (ms). */
const PROMPT_MS = 100;
const FIXTURE = "test/cancellation/_main.ts";

let seq = 0;
const uid = (tag: string): string => `${tag}-${process.pid}-${++seq}`;

/** Every stdout line the fixture printed, for checks that something did not happen. */
function lines(f: Fixture): () => string {
  let out = "";
  f.child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  return () => out;
}

async function abortOf(f: Fixture, id: string, timeoutMs = 5_000): Promise<{ code: string; at: number }> {
  const m = await f.waitForLine(new RegExp(`^ABORT ${id} (\\S+) (\\d+)$`), timeoutMs);
  return { code: m[1]!, at: Number(m[2]) };
}

async function cancelAt(f: Fixture, id: string): Promise<number> {
  return Number((await f.waitForLine(new RegExp(`^CANCEL ${id} (\\d+)$`), 5_000))[1]);
}

/** Starts `path` over `wire` and returns a function that makes the client leave (h1: close; h2: RST_STREAM). */
async function start(wire: Wire, port: number, path: string): Promise<{ leave: () => void; done: () => void; until: (t: string) => Promise<void> }> {
  if (!isH2(wire)) {
    const call = await h1Call(wire, port, path);
    return { leave: () => call.leave(), done: () => call.leave(), until: (t) => call.until(t) };
  }
  const session = await h2Open(wire, port);
  const call = h2Call(session, path);
  return { leave: () => call.reset(), done: () => session.destroy(), until: (t) => call.until(t) };
}

function wireSuite(wire: Wire, fx: { readonly f: Fixture }): void {
  test(`client leaves mid-handler: req.signal aborts with TAKO_ERR_CLIENT_GONE within ${PROMPT_MS} ms (${wire})`, { timeout: 20_000 }, async () => {
    const id = uid("gone");
    const c = await start(wire, fx.f.port, `/wait/${id}/10000`);
    await fx.f.waitForLine(new RegExp(`^START ${id}$`));
    const leftAt = Date.now();
    c.leave();
    const abort = await abortOf(fx.f, id);
    c.done();
    assert.equal(abort.code, "TAKO_ERR_CLIENT_GONE");
    assert.ok(abort.at - leftAt < PROMPT_MS, `aborted ${abort.at - leftAt} ms after the client left`);
  });

  for (const kind of ["readable", "response", "iterator", "sse", "generator"]) {
    test(`client leaves mid-stream: the ${kind} source is cancelled within ${PROMPT_MS} ms, not at its next chunk 10 s later (${wire})`, { timeout: 20_000 }, async () => {
      const id = uid(kind);
      const c = await start(wire, fx.f.port, `/stream/${kind}/${id}`);
      await c.until("chunk");
      const leftAt = Date.now();
      c.leave();
      const at = await cancelAt(fx.f, id);
      c.done();
      assert.ok(at - leftAt < PROMPT_MS, `source ended ${at - leftAt} ms after the client left`);
    });
  }
}

/** `count` GETs over keep-alive HTTP/1.1 (`concurrency` connections); every one must be 200. */
async function load(port: number, paths: (i: number) => string, count: number, concurrency: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const path = paths(next++);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        req.end();
      });
      assert.equal(status, 200, path);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
}

export function cancellationSuite(runtime: Runtime): void {
  describe(`cancellation over HTTP/1.1 and PROXY (${runtime})`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_CANCEL: "h1" });
    wireSuite("h1", fx);

    test("normal completion never aborts: 10,000 requests that read req.signal (sync, async, streamed), zero aborts", { timeout: 120_000 }, async () => {
      const out = lines(fx.f);
      const kinds = ["sync", "async", "stream"];
      const tag = uid("q");
      await load(fx.f.port, (i) => `/quick/${kinds[i % 3]}/${tag}-${i}`, 10_000, 32);
      // Deno aborts its own request signal just after a successful response: give any such abort time to show.
      await new Promise((r) => setTimeout(r, 300));
      // The watch is live in this process: a client that leaves is still seen.
      const id = uid("after-load");
      const c = await h1Call("h1", fx.f.port, `/wait/${id}/10000`);
      await fx.f.waitForLine(new RegExp(`^START ${id}$`));
      c.leave();
      assert.equal((await abortOf(fx.f, id)).code, "TAKO_ERR_CLIENT_GONE");
      assert.deepEqual(out().match(new RegExp(`^ABORT ${tag}-.*$`, "gm")) ?? [], []);
    });
  });
  describe(`cancellation over PROXY (${runtime})`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_CANCEL: "proxy" });
    wireSuite("proxy-h1", fx);
  });
  describe(`cancellation over h2c (${runtime})`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_CANCEL: "h2c" });
    wireSuite("h2c", fx);

    test("RST_STREAM aborts only that stream's signal; the connection's other stream finishes", { timeout: 20_000 }, async () => {
      const out = lines(fx.f);
      const [a, b] = [uid("rst-a"), uid("rst-b")];
      const session = await h2Open("h2c", fx.f.port);
      const first = h2Call(session, `/wait/${a}/10000`);
      const second = h2Call(session, `/wait/${b}/500`);
      await fx.f.waitForLine(new RegExp(`^START ${a}$`));
      await fx.f.waitForLine(new RegExp(`^START ${b}$`));
      first.reset();
      assert.equal((await abortOf(fx.f, a)).code, "TAKO_ERR_CLIENT_GONE");
      assert.equal(await second.status, 200);
      assert.equal(await second.closed, "waited 500");
      await fx.f.waitForLine(new RegExp(`^DONE ${b}$`));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(out().match(new RegExp(`^ABORT ${b} .*$`, "m")), null);
      session.destroy();
    });

    test("normal completion never aborts over HTTP/2: 2,000 streams that read req.signal, zero aborts", { timeout: 60_000 }, async () => {
      const out = lines(fx.f);
      const tag = uid("q2");
      const session = await h2Open("h2c", fx.f.port);
      const kinds = ["sync", "async", "stream"];
      for (let batch = 0; batch < 20; batch++) {
        const calls = Array.from({ length: 100 }, (_, i) => h2Call(session, `/quick/${kinds[i % 3]}/${tag}-${batch}-${i}`));
        for (const call of calls) assert.equal(await call.status, 200);
        await Promise.all(calls.map((c) => c.closed));
      }
      await new Promise((r) => setTimeout(r, 300));
      session.close();
      assert.deepEqual(out().match(new RegExp(`^ABORT ${tag}-.*$`, "gm")) ?? [], []);
    });
  });
  describe(`cancellation over TLS (${runtime})`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_CANCEL: "tls" });
    wireSuite("tls-h1", fx);
    wireSuite("tls-h2", fx);
  });
  describe(`cancellation over PROXY then TLS (${runtime})`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_CANCEL: "proxy-tls" });
    wireSuite("proxy-tls-h1", fx);
    wireSuite("proxy-tls-h2", fx);
  });
  describe(`cancellation over TLS and PROXY then TLS, HTTP/2 off (${runtime})`, () => {
    const tls = useFixture(runtime, FIXTURE, { TAKO_CANCEL: "tls-http1" });
    wireSuite("tls-h1", tls);
    const proxied = useFixture(runtime, FIXTURE, { TAKO_CANCEL: "proxy-tls-http1" });
    wireSuite("proxy-tls-h1", proxied);
  });

  describe(`handlerTimeout and route .timeout(ms) (${runtime})`, () => {
    for (const wire of ["h1", "h2c"] as const) {
      describe(wire, () => {
        const fx = useFixture(runtime, FIXTURE, { TAKO_CANCEL: "h2c", TAKO_CONFIG: JSON.stringify({ handlerTimeout: 300 }) });
        const get = async (path: string): Promise<{ status: number; body: string; ms: number }> => {
          const t0 = Date.now();
          if (wire === "h1") {
            return new Promise((resolve, reject) => {
              const req = request({ host: "127.0.0.1", port: fx.f.port, path, agent: false }, (res) => {
                let body = "";
                res.setEncoding("utf8").on("data", (d: string) => (body += d));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - t0 }));
              });
              req.on("error", reject);
              req.end();
            });
          }
          const session = await h2Open("h2c", fx.f.port);
          const call = h2Call(session, path);
          const status = await call.status;
          const body = await call.closed;
          session.close();
          return { status, body, ms: Date.now() - t0 };
        };

        test(`past handlerTimeout: 503 and req.signal aborts with TAKO_ERR_HANDLER_TIMEOUT (${wire})`, { timeout: 20_000 }, async () => {
          const id = uid("late");
          const r = await get(`/slow/${id}/5000`);
          assert.equal(r.status, 503);
          assert.match(r.body, /timed out/);
          assert.ok(r.ms >= 280 && r.ms < 2000, `answered after ${r.ms} ms`);
          assert.equal((await abortOf(fx.f, id)).code, "TAKO_ERR_HANDLER_TIMEOUT");
        });

        test(`within handlerTimeout: the handler's answer, no abort (${wire})`, { timeout: 20_000 }, async () => {
          const out = lines(fx.f);
          const id = uid("intime");
          const r = await get(`/slow/${id}/50`);
          assert.equal(r.status, 200);
          assert.equal(r.body, "slow done");
          await new Promise((res) => setTimeout(res, 400));
          assert.equal(out().match(new RegExp(`^ABORT ${id} .*$`, "m")), null);
        });

        test(`a route's .timeout(150) overrides the server's 300 (${wire})`, { timeout: 20_000 }, async () => {
          const id = uid("route");
          const r = await get(`/fast-limit/${id}/5000`);
          assert.equal(r.status, 503);
          assert.ok(r.ms >= 130 && r.ms < 290, `answered after ${r.ms} ms`);
          assert.equal((await abortOf(fx.f, id)).code, "TAKO_ERR_HANDLER_TIMEOUT");
        });

        test(`a route's .timeout(null) lifts the server's timeout (${wire})`, { timeout: 20_000 }, async () => {
          const out = lines(fx.f);
          const id = uid("unlimited");
          const r = await get(`/unlimited/${id}/600`);
          assert.equal(r.status, 200);
          assert.equal(r.body, "unlimited done");
          assert.equal(out().match(new RegExp(`^ABORT ${id} .*$`, "m")), null);
        });

        test(`a handler that ignores the timeout: 503 at the deadline, its late answer dropped, the server serves on (${wire})`, { timeout: 20_000 }, async () => {
          const id = uid("stubborn");
          const r = await get(`/stubborn/${id}`);
          assert.equal(r.status, 503);
          await fx.f.waitForLine(new RegExp(`^DONE ${id}$`));
          const after = await get(`/unlimited/${uid("after")}/1`);
          assert.equal(after.status, 200);
        });
      });
    }
  });

  describe(`drain deadline aborts req.signal with TAKO_ERR_DRAIN_DEADLINE (${runtime})`, () => {
    for (const wire of ["h1", "h2c", "tls-h1", "tls-h2"] as const) {
      test(`a request still running at the drain deadline (${wire})`, { timeout: 30_000 }, async () => {
        const mode = wire.startsWith("tls") ? "tls" : "h2c";
        const f = await startFixture(runtime, FIXTURE, { TAKO_CANCEL: mode, TAKO_CONFIG: JSON.stringify({ drainTimeout: 300 }) });
        try {
          const id = uid("drain");
          const c = await start(wire, f.port, `/wait/${id}/20000`);
          await f.waitForLine(new RegExp(`^START ${id}$`));
          const signalledAt = Date.now();
          f.child.kill("SIGTERM");
          const abort = await abortOf(f, id);
          assert.equal(abort.code, "TAKO_ERR_DRAIN_DEADLINE");
          assert.ok(abort.at - signalledAt >= 250, `aborted ${abort.at - signalledAt} ms after SIGTERM, before the 300 ms deadline`);
          assert.equal(await f.exited, 0);
          c.done();
        } finally {
          await f.stop();
        }
      });

      test(`a request that finishes during the drain is not aborted (${wire})`, { timeout: 30_000 }, async () => {
        const mode = wire.startsWith("tls") ? "tls" : "h2c";
        const f = await startFixture(runtime, FIXTURE, { TAKO_CANCEL: mode, TAKO_CONFIG: JSON.stringify({ drainTimeout: 5_000 }) });
        try {
          const out = lines(f);
          const id = uid("drained");
          const c = await start(wire, f.port, `/wait/${id}/400`);
          await f.waitForLine(new RegExp(`^START ${id}$`));
          f.child.kill("SIGTERM");
          await c.until("waited 400");
          await f.waitForLine(new RegExp(`^DONE ${id}$`));
          assert.equal(await f.exited, 0);
          assert.equal(out().match(new RegExp(`^ABORT ${id} .*$`, "m")), null);
          c.done();
        } finally {
          await f.stop();
        }
      });
    }
  });
}
