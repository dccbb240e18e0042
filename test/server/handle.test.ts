// ServerHandle semantics against a fake engine with mock timers (the handle is runtime-neutral;
// the lifecycle suite proves the wire behaviour on every runtime): idempotence, concurrency,
// the drain deadline, await using. No sockets and no sleeping, except the two wire checks at
// the end.
import assert from "node:assert/strict";
import { describe, mock, test, type TestContext } from "node:test";
import { DEFAULT_SERVER_CONFIG, Router, Server, TcpListener } from "../../src/index.ts";
import { ServerHandle } from "../../src/server/handle.ts";
import { FakeListener, settled } from "../adapters/_fake-engine.ts";

/** A handle on a fake listener with one connection in flight (it never finishes by itself). */
function spawnFake(t: TestContext, drainTimeout = 30_000, shutdownDelay = 0, onTrigger?: () => void) {
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
  t.after(() => mock.timers.reset());
  const listener = new FakeListener();
  const serving = listener.serve({
    protocol: "http1",
    router: new Router(),
    config: { ...DEFAULT_SERVER_CONFIG, drainTimeout },
    explicit: new Set(),
    proxy: { mode: "off", onBadCrc: "reject" },
  });
  const handle = new ServerHandle(serving, listener, drainTimeout, shutdownDelay, onTrigger);
  const conn = listener.transport.connect()!;
  return { handle, conn, transport: listener.transport };
}

describe("ServerHandle", () => {
  test("localAddr and drainTimeout come from the listener and the config", (t) => {
    const { handle } = spawnFake(t, 1234);
    assert.equal(handle.drainTimeout, 1234);
    assert.deepEqual(handle.localAddr(), { address: "127.0.0.1", port: 4242, family: "IPv4" });
  });

  test("trigger() drains once; join() resolves when the last connection is gone", async (t) => {
    const { handle, conn, transport } = spawnFake(t);
    assert.equal(handle.draining, false);
    handle.trigger();
    handle.trigger();
    assert.equal(handle.draining, true);
    assert.deepEqual(transport.calls, ["stopAccepting", "drainConnections"]);
    assert.equal(conn.drained, true);
    assert.equal(await settled(handle.join()), false);
    transport.hangUp(conn);
    assert.equal(await settled(handle.join()), true);
    assert.equal(conn.destroyed, false, "a drain that finishes in time destroys nothing");
  });

  test("shutdownDelay: readiness is told at trigger(); serving goes on for the delay, then the drain, bounded by drainTimeout after it", async (t) => {
    let told = 0;
    const { handle, conn, transport } = spawnFake(t, 1_000, 500, () => told++);
    const done = handle.shutdown();
    handle.trigger();
    assert.equal(told, 1, "told once, at once");
    assert.equal(handle.draining, true);
    mock.timers.tick(499);
    assert.deepEqual(transport.calls, [], "still serving during the delay");
    assert.notEqual(transport.connect(), null, "new connections are accepted during the delay");
    mock.timers.tick(1);
    assert.deepEqual(transport.calls, ["stopAccepting", "drainConnections"]);
    mock.timers.tick(999);
    assert.equal(conn.destroyed, false);
    mock.timers.tick(1);
    assert.equal(conn.destroyed, true, "destroyed at shutdownDelay + drainTimeout");
    assert.equal(await settled(done), true);
  });

  test("double and concurrent shutdown() resolve together", async (t) => {
    const { handle, conn, transport } = spawnFake(t);
    const all = Promise.all([handle.shutdown(), handle.shutdown(), handle.join(), handle.shutdown(10)]);
    transport.hangUp(conn);
    await all;
    await handle.shutdown();
    assert.deepEqual(transport.calls, ["stopAccepting", "drainConnections", "released"]);
  });

  test("the drain deadline is drainTimeout: nothing is destroyed before it, everything at it", async (t) => {
    const { handle, conn } = spawnFake(t, 1_000);
    const done = handle.shutdown();
    mock.timers.tick(999);
    assert.equal(conn.destroyed, false);
    assert.equal(await settled(done), false);
    mock.timers.tick(1);
    assert.equal(conn.destroyed, true);
    assert.equal(await settled(done), true);
  });

  test("shutdown(timeout) bounds the drain below drainTimeout", async (t) => {
    const { handle, conn } = spawnFake(t, 30_000);
    const done = handle.shutdown(300);
    mock.timers.tick(299);
    assert.equal(conn.destroyed, false);
    mock.timers.tick(1);
    assert.equal(conn.destroyed, true);
    await done;
  });

  test("a later, shorter shutdown() moves the deadline earlier; a longer one never extends it", async (t) => {
    const { handle, conn } = spawnFake(t, 30_000);
    handle.trigger();
    mock.timers.tick(1_000);
    void handle.shutdown(500); // deadline now at 1,500
    void handle.shutdown(10_000); // does not move it later
    mock.timers.tick(499);
    assert.equal(conn.destroyed, false);
    mock.timers.tick(1);
    assert.equal(conn.destroyed, true);
    await handle.join();
  });

  test("shutdown() rejects a bad timeout and does not start the drain", async (t) => {
    const { handle, transport, conn } = spawnFake(t);
    for (const bad of [-1, Number.NaN, Infinity, "5" as unknown as number]) await assert.rejects(handle.shutdown(bad), RangeError);
    assert.deepEqual(transport.calls, []);
    transport.hangUp(conn);
    await handle.shutdown();
  });

  test("await using drains at the end of the block", async (t) => {
    const { handle, conn, transport } = spawnFake(t);
    const block = (async () => {
      await using h = handle;
      assert.equal(h.draining, false);
    })();
    assert.deepEqual(transport.calls, ["stopAccepting", "drainConnections"]);
    transport.hangUp(conn);
    await block;
  });

  test("on the wire: await using refuses connections after the block", async () => {
    const r = new Router();
    r.get("/", () => "ok");
    let port = 0;
    {
      await using handle = Server.builder()
        .build()
        .spawnHttp(await TcpListener.bind("127.0.0.1:0"), r);
      port = handle.localAddr().port;
      assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200);
    }
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
  });

  test("a listener serves once", async () => {
    const listener = await TcpListener.bind("127.0.0.1:0");
    const server = Server.builder().build();
    const handle = server.spawnHttp(listener, new Router());
    assert.throws(() => server.spawnHttp(listener, new Router()), /already being served/);
    await handle.shutdown();
  });
});
