// ServerHandle semantics in process on Node (the handle is runtime-neutral; the lifecycle suite
// proves the wire behaviour on every runtime): idempotence, concurrency, deadlines, await using.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { Router, Server, TcpListener } from "../../src/index.ts";

function app(): Router {
  const r = new Router();
  r.get("/", () => "ok");
  r.get("/hang", () => new Promise<string>(() => {}));
  return r;
}

async function spawn(config = {}) {
  const listener = await TcpListener.bind("127.0.0.1:0");
  return Server.builder().config(config).build().spawnHttp(listener, app());
}

/** Leaves a request in a handler that never finishes. */
async function hangingRequest(port: number): Promise<void> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise((r) => socket.once("connect", r));
  socket.write("GET /hang HTTP/1.1\r\nHost: t\r\n\r\n");
  await new Promise((r) => setTimeout(r, 100));
}

describe("ServerHandle", () => {
  test("localAddr and drainTimeout", async () => {
    const handle = await spawn({ drainTimeout: 1234 });
    assert.equal(handle.drainTimeout, 1234);
    assert.equal(handle.localAddr().address, "127.0.0.1");
    assert.ok(handle.localAddr().port > 0);
    await handle.shutdown();
  });

  test("double and concurrent shutdown() resolve together; trigger() and join() are idempotent", async () => {
    const handle = await spawn();
    assert.equal((await fetch(`http://127.0.0.1:${handle.localAddr().port}/`)).status, 200);
    handle.trigger();
    handle.trigger();
    assert.equal(handle.draining, true);
    await Promise.all([handle.shutdown(), handle.shutdown(), handle.join(), handle.shutdown(10)]);
    await handle.shutdown();
    await handle.join();
  });

  test("shutdown(timeout) bounds the drain below drainTimeout", async () => {
    const handle = await spawn({ drainTimeout: 30_000 });
    await hangingRequest(handle.localAddr().port);
    const started = Date.now();
    await handle.shutdown(300);
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 2000, `shutdown(300) took ${took} ms`);
  });

  test("a later shorter shutdown() moves the deadline earlier", async () => {
    const handle = await spawn({ drainTimeout: 30_000 });
    await hangingRequest(handle.localAddr().port);
    const started = Date.now();
    handle.trigger();
    await handle.shutdown(200);
    assert.ok(Date.now() - started < 2000);
  });

  test("shutdown() rejects a bad timeout", async () => {
    const handle = await spawn();
    await assert.rejects(handle.shutdown(-1), RangeError);
    await handle.shutdown();
  });

  test("await using shuts the server down at the end of the block", async () => {
    let port = 0;
    {
      await using handle = await spawn();
      port = handle.localAddr().port;
      assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200);
    }
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
  });

  test("a listener serves once", async () => {
    const listener = await TcpListener.bind("127.0.0.1:0");
    const server = Server.builder().build();
    const handle = server.spawnHttp(listener, app());
    assert.throws(() => server.spawnHttp(listener, app()), /already being served/);
    await handle.shutdown();
  });
});
