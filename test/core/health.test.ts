// router.health(): liveness, readiness with checks (ok, failing, throwing, too slow), and the
// 503 from the moment a server serving the router is triggered. In process, through router.fetch;
// test/health/ proves the drain a load balancer sees on the wire.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Router, TakoError } from "../../src/index.ts";

const get = (router: Router, path: string, method = "GET") => router.fetch(new Request(`http://t${path}`, { method }));

describe("router.health()", () => {
  test("liveness is 200 JSON; readiness is 200 with every check ok", async () => {
    const router = new Router().health({ checks: { db: () => true, cache: async () => true } });
    const live = await get(router, "/livez");
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { status: "live" });
    const ready = await get(router, "/readyz");
    assert.equal(ready.status, 200);
    assert.equal(ready.headers.get("cache-control"), "no-store");
    assert.deepEqual(await ready.json(), { status: "ready", checks: { db: "ok", cache: "ok" } });
    assert.equal((await get(router, "/readyz", "HEAD")).status, 200);
  });

  test("a failing, throwing or slow check makes readiness 503 with Retry-After, naming each outcome", async () => {
    const router = new Router().health({
      ready: "/ready",
      checks: { ok: () => true, down: () => false, broken: () => Promise.reject(new Error("x")), slow: () => new Promise<boolean>(() => {}) },
      checkTimeout: 50,
      retryAfter: 2,
    });
    const res = await get(router, "/ready");
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "2");
    assert.deepEqual(await res.json(), { status: "failing", checks: { ok: "ok", down: "fail", broken: "error", slow: "timeout" } });
    assert.equal((await get(router, "/livez")).status, 200, "liveness does not run the checks");
  });

  test("once a server serving the router is triggered, readiness is 503 draining; liveness stays 200", async () => {
    const router = new Router().health();
    assert.equal((await get(router, "/readyz")).status, 200);
    router.serverDraining();
    const res = await get(router, "/readyz");
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "5");
    assert.deepEqual(await res.json(), { status: "draining" });
    assert.equal((await get(router, "/livez")).status, 200);
  });

  test("bad options throw TAKO_ERR_CONFIG naming the field", () => {
    const cases: [object, RegExp][] = [
      [{ live: "livez" }, /"live" must be a path/],
      [{ live: "/h", ready: "/h" }, /"ready" must be a different path/],
      [{ checks: { db: 1 } }, /"checks\.db" must be a function/],
      [{ checkTimeout: 0 }, /"checkTimeout"/],
      [{ retryAfter: -1 }, /"retryAfter"/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => new Router().health(options as never),
        (e: unknown) => e instanceof TakoError && e.code === "TAKO_ERR_CONFIG" && message.test(e.message),
      );
    }
  });
});
