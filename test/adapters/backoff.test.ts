import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { Backoff } from "../../src/adapters/shared/backoff.ts";
import { Deadline, http1Deadlines } from "../../src/adapters/shared/deadline.ts";
import { DEFAULT_SERVER_CONFIG } from "../../src/index.ts";

test("accept backoff: initial, doubling to max, reset by a success", () => {
  const b = new Backoff({ initial: 5, max: 1000 });
  const seen = Array.from({ length: 10 }, () => b.next());
  assert.deepEqual(seen, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
  b.reset();
  assert.equal(b.next(), 5);
});

test("deadline: fires once after its time, re-arming replaces it, clear cancels it", (t) => {
  mock.timers.enable({ apis: ["setTimeout"] });
  t.after(() => mock.timers.reset());
  const d = new Deadline();
  const fired: string[] = [];
  d.arm(100, () => fired.push("first"));
  mock.timers.tick(99);
  assert.equal(fired.length, 0);
  d.arm(50, () => fired.push("second"));
  mock.timers.tick(49);
  assert.equal(fired.length, 0);
  mock.timers.tick(1);
  assert.deepEqual(fired, ["second"]);
  mock.timers.tick(1000);
  assert.deepEqual(fired, ["second"], "the replaced deadline never fires");
  d.arm(10, () => fired.push("third"));
  assert.equal(d.armed, true);
  d.clear();
  assert.equal(d.armed, false);
  mock.timers.tick(100);
  assert.deepEqual(fired, ["second"]);
  d.arm(null, () => fired.push("never"));
  d.arm(Infinity, () => fired.push("never"));
  assert.equal(d.armed, false);
});

test("HTTP/1.1 deadlines: headerReadTimeout first, then the smaller of keep-alive and header read", () => {
  assert.deepEqual(http1Deadlines(DEFAULT_SERVER_CONFIG), { firstHead: 30_000, nextHead: 5_000 });
  assert.deepEqual(http1Deadlines({ ...DEFAULT_SERVER_CONFIG, headerReadTimeout: 1_000 }), { firstHead: 1_000, nextHead: 1_000 });
  assert.deepEqual(http1Deadlines({ ...DEFAULT_SERVER_CONFIG, headerReadTimeout: null, keepAliveTimeout: null }), { firstHead: null, nextHead: null });
});
