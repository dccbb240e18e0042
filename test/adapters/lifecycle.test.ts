// The lifecycle kernel (accept → track → drain → force-close) against a fake engine: no
// sockets, no clock. Every engine feeds this one kernel, so its rules are proven here once.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Lifecycle, SHED_MIN_AGE } from "../../src/adapters/shared/lifecycle.ts";
import { FakeTransport, settled, type FakeConn } from "./_fake-engine.ts";

function started(cap: number | null = null): FakeTransport {
  const t = new FakeTransport();
  t.lifecycle.start(t, cap);
  return t;
}

describe("Lifecycle kernel", () => {
  test("ready resolves at start; closed waits for the listener and the last connection", async () => {
    const t = new FakeTransport();
    assert.equal(await settled(t.lifecycle.ready), false);
    t.lifecycle.start(t);
    assert.equal(await settled(t.lifecycle.ready), true);
    const a = t.connect()!;
    const b = t.connect()!;
    t.lifecycle.drain();
    assert.deepEqual(t.calls, ["stopAccepting", "drainConnections"]);
    assert.equal(a.drained && b.drained, true);
    assert.equal(await settled(t.lifecycle.closed), false, "two connections still open");
    t.hangUp(a);
    assert.equal(await settled(t.lifecycle.closed), false, "one connection still open");
    t.hangUp(b);
    assert.equal(await settled(t.lifecycle.closed), true);
    assert.deepEqual(t.calls, ["stopAccepting", "drainConnections", "released"]);
  });

  test("drain() and forceClose() are idempotent; forceClose destroys what the drain left", async () => {
    const t = started();
    const conn = t.connect()!;
    t.lifecycle.drain();
    t.lifecycle.drain();
    assert.equal(t.lifecycle.draining, true);
    t.lifecycle.forceClose();
    t.lifecycle.forceClose();
    assert.equal(conn.destroyed, true);
    assert.deepEqual(t.calls, ["stopAccepting", "drainConnections", "stopAccepting", "destroyConnections", "released"]);
    assert.equal(await settled(t.lifecycle.closed), true);
  });

  test("forceClose() without a drain stops accepting and destroys every connection", async () => {
    const t = started();
    const conns = [t.connect()!, t.connect()!, t.connect()!];
    t.lifecycle.forceClose();
    assert.deepEqual(
      conns.map((c) => c.destroyed),
      [true, true, true],
    );
    assert.equal(t.connect(), null, "refused after the listener closed");
    assert.equal(await settled(t.lifecycle.closed), true);
  });

  test("the connection cap admits up to maxConnections; a released slot is free again", () => {
    const t = started(2);
    const a = t.connect();
    const b = t.connect();
    assert.ok(a !== null && b !== null);
    assert.equal(t.connect(), null, "third connection over the cap");
    assert.equal(t.lifecycle.size, 2);
    t.hangUp(a);
    assert.notEqual(t.connect(), null, "the freed slot admits again");
    assert.equal(t.connect(), null);
  });

  test("no cap (null) admits any number of connections", () => {
    const t = started(null);
    for (let i = 0; i < 1000; i++) assert.notEqual(t.connect(), null);
    assert.equal(t.lifecycle.size, 1000);
  });

  test("a drain asked before the transport started is replayed at start", async () => {
    const t = new FakeTransport();
    t.lifecycle.drain();
    assert.deepEqual(t.calls, []);
    t.lifecycle.start(t);
    assert.deepEqual(t.calls, ["stopAccepting", "drainConnections", "released"]);
    assert.equal(await settled(t.lifecycle.closed), true);
  });

  test("a force-close asked before the transport started is replayed at start (and wins over the drain)", () => {
    const t = new FakeTransport();
    t.lifecycle.drain();
    t.lifecycle.forceClose();
    t.lifecycle.start(t);
    assert.deepEqual(t.calls, ["stopAccepting", "destroyConnections", "released"]);
  });

  test("connections tracked before start (queued while moving servers) are counted and destroyed", async () => {
    const lifecycle = new Lifecycle<FakeConn>();
    const t = new FakeTransport(lifecycle);
    const early = t.connect()!;
    lifecycle.forceClose();
    lifecycle.start(t);
    assert.equal(early.destroyed, true);
    assert.equal(await settled(lifecycle.closed), true);
  });

  test("a failed start rejects ready and resolves closed", async () => {
    const lifecycle = new Lifecycle();
    const error = new Error("port taken");
    lifecycle.fail(error);
    await assert.rejects(lifecycle.ready, /port taken/);
    assert.equal(await settled(lifecycle.closed), true);
  });

  test("start() twice is a programming error", () => {
    const t = started();
    assert.throws(() => t.lifecycle.start(t), /already started/);
  });

  test("released() runs once, after the last connection", async () => {
    const t = started();
    const conn = t.connect()!;
    t.lifecycle.listenerClosed();
    t.lifecycle.listenerClosed();
    assert.deepEqual(t.calls, []);
    t.hangUp(conn);
    t.hangUp(conn);
    assert.deepEqual(t.calls, ["released"]);
  });
});

describe("Lifecycle kernel: shedding idle connections at the cap", () => {
  /** A transport whose connections say whether they are idle, on a fake clock. */
  function shedding(cap: number): { t: FakeTransport; busy: Set<FakeConn>; shed: FakeConn[]; clock: { now: number } } {
    const clock = { now: 0 };
    const t = new FakeTransport(new Lifecycle<FakeConn>(() => clock.now));
    const busy = new Set<FakeConn>();
    const shed: FakeConn[] = [];
    t.lifecycle.start(
      Object.assign(t, {
        idle: (conn: unknown) => !busy.has(conn as FakeConn),
        shed: (conn: unknown) => {
          (conn as FakeConn).destroyed = true;
          shed.push(conn as FakeConn);
        },
      }),
      cap,
    );
    return { t, busy, shed, clock };
  }

  test("at the cap, the oldest idle connection older than SHED_MIN_AGE makes room; busy ones are kept", () => {
    const { t, busy, shed, clock } = shedding(3);
    const [a, b, c] = [t.connect()!, t.connect()!, t.connect()!];
    busy.add(a);
    clock.now = SHED_MIN_AGE - 1;
    assert.equal(t.connect(), null, "too young to shed: refused");
    clock.now = SHED_MIN_AGE;
    const d = t.connect();
    assert.ok(d !== null, "admitted by shedding");
    assert.deepEqual(shed, [b], "the oldest idle one (a is busy)");
    assert.equal(t.lifecycle.size, 3);
    // A shed connection's later close changes nothing.
    t.hangUp(b);
    assert.equal(t.lifecycle.size, 3);
    busy.add(c);
    busy.add(d);
    assert.equal(t.connect(), null, "every connection busy: refused");
    assert.deepEqual(shed, [b]);
  });

  test("without idle/shed hooks the cap refuses, as before", () => {
    const clock = { now: 0 };
    const t = new FakeTransport(new Lifecycle<FakeConn>(() => clock.now));
    t.lifecycle.start(t, 1);
    t.connect();
    clock.now = 10 * SHED_MIN_AGE;
    assert.equal(t.connect(), null);
  });

  test("a drain still waits for every connection left after shedding", async () => {
    const { t, clock } = shedding(1);
    t.connect();
    clock.now = SHED_MIN_AGE;
    const b = t.connect()!;
    t.lifecycle.drain();
    assert.equal(await settled(t.lifecycle.closed), false);
    t.hangUp(b);
    assert.equal(await settled(t.lifecycle.closed), true);
  });
});
