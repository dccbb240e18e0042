// req.signal, handler timeouts and route .timeout(ms) without sockets (router.fetch): the
// wire behaviour on every runtime is in test/cancellation/.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Router, TakoError } from "../../src/index.ts";
import { resolveConfig } from "../../src/core/config.ts";

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

test("req.signal aborts with TAKO_ERR_CLIENT_GONE when the caller aborts the Fetch request (router.fetch)", async () => {
  const router = new Router();
  let seen: AbortSignal | null = null;
  router.get("/wait", async (req) => {
    seen = req.signal;
    await sleep(5_000, req.signal);
    return "late";
  });
  const caller = new AbortController();
  const pending = router.fetch(new Request("http://t/wait", { signal: caller.signal }));
  await sleep(20);
  caller.abort();
  const response = await pending;
  assert.equal(response.status, 500); // the handler rejected with the reason; no hook answer
  const signal = seen as unknown as AbortSignal;
  assert.equal(signal.aborted, true);
  assert.ok(signal.reason instanceof TakoError);
  assert.equal((signal.reason as TakoError).code, "TAKO_ERR_CLIENT_GONE");
});

test("req.signal is the same object on every read and stays unaborted after a completed response", async () => {
  const router = new Router();
  let signal: AbortSignal | null = null;
  router.get("/", (req) => {
    signal = req.signal;
    assert.equal(req.signal, signal);
    return "ok";
  });
  assert.equal(await (await router.fetch(new Request("http://t/"))).text(), "ok");
  await sleep(10);
  assert.equal((signal as unknown as AbortSignal).aborted, false);
});

test("a route's .timeout(ms): 503 past it, req.signal aborts with TAKO_ERR_HANDLER_TIMEOUT, the late result is dropped", async () => {
  const router = new Router();
  router.onError(() => {});
  let reason: unknown = null;
  let cancelled = false;
  router
    .get("/slow", async (req) => {
      req.signal.addEventListener("abort", () => (reason = req.signal.reason));
      await sleep(200);
      return new ReadableStream({ cancel: () => void (cancelled = true) });
    })
    .timeout(50);
  const t0 = Date.now();
  const response = await router.fetch(new Request("http://t/slow"));
  assert.equal(response.status, 503);
  assert.match(await response.text(), /timed out/);
  assert.ok(Date.now() - t0 < 180, `answered after ${Date.now() - t0} ms`);
  assert.equal((reason as TakoError).code, "TAKO_ERR_HANDLER_TIMEOUT");
  await sleep(250);
  assert.equal(cancelled, true, "the stream returned after the timeout is cancelled");
});

test("a signal first read after the timeout is already aborted", async () => {
  const router = new Router();
  let late: AbortSignal | null = null;
  router
    .get("/slow", async (req) => {
      await sleep(100);
      late = req.signal;
      return "late";
    })
    .timeout(20);
  assert.equal((await router.fetch(new Request("http://t/slow"))).status, 503);
  await sleep(150);
  assert.equal((late as unknown as AbortSignal).aborted, true);
  assert.equal(((late as unknown as AbortSignal).reason as TakoError).code, "TAKO_ERR_HANDLER_TIMEOUT");
});

test("a timeout covers the route's middleware too, and a synchronous handler is never timed out", async () => {
  const router = new Router();
  router
    .get("/mw", () => "inner")
    .middleware(async (_req, next) => {
      await sleep(100);
      return next();
    })
    .timeout(20);
  router.get("/sync", () => "sync").timeout(1);
  assert.equal((await router.fetch(new Request("http://t/mw"))).status, 503);
  assert.equal(await (await router.fetch(new Request("http://t/sync"))).text(), "sync");
});

test("a route registered for several methods shares its timeout; nested routes keep theirs", async () => {
  const child = new Router();
  child.route(["GET", "POST"] as never, "/x", () => sleep(100).then(() => "x")).timeout(20);
  const router = new Router().nest("/api", child);
  assert.equal((await router.fetch(new Request("http://t/api/x"))).status, 503);
  assert.equal((await router.fetch(new Request("http://t/api/x", { method: "POST" }))).status, 503);
});

test(".timeout() and handlerTimeout reject bad values naming the field", () => {
  const router = new Router();
  for (const bad of [0, -1, Number.NaN, 2 ** 31, "10" as unknown as number]) {
    assert.throws(
      () => router.get(`/t${String(bad)}`, () => "").timeout(bad),
      (e: unknown) => e instanceof TakoError && e.code === "TAKO_ERR_CONFIG" && /timeout\(\)/.test(e.message),
      String(bad),
    );
  }
  router
    .get("/ok", () => "")
    .timeout(null)
    .timeout(1000);
  assert.equal(resolveConfig({}).handlerTimeout, null);
  assert.equal(resolveConfig({ handlerTimeout: 250 }).handlerTimeout, 250);
  assert.throws(() => resolveConfig({ handlerTimeout: 0 }), /"handlerTimeout"/);
  assert.throws(() => resolveConfig({ handlerTimeout: -5 }), /"handlerTimeout"/);
});
