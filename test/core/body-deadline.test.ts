// The body deadline's clock: time counts only while waiting, received bytes extend it, it
// expires once; the defaults are Apache mod_reqtimeout's body rule.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BODY_SWEEP_MS, BodyClock, bodyDeadline, nativeReadCredit } from "../../src/core/body.ts";
import { DEFAULT_SERVER_CONFIG, type HttpError } from "../../src/index.ts";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("body deadline", () => {
  test("defaults: 20 s plus 1 s per 500 bytes; null turns it off", () => {
    assert.deepEqual(bodyDeadline(DEFAULT_SERVER_CONFIG), { timeout: 20_000, minRate: 500 });
    assert.equal(bodyDeadline({ ...DEFAULT_SERVER_CONFIG, bodyReadTimeout: null }), null);
    assert.equal(nativeReadCredit({ timeout: 20_000, minRate: 500 }), 10_000);
    assert.equal(nativeReadCredit({ timeout: 20_000, minRate: null }), Number.POSITIVE_INFINITY);
  });

  test("expires once waiting passes the base timeout, with a 408 that closes the connection", async () => {
    const fired: HttpError[] = [];
    const clock = new BodyClock({ timeout: 30, minRate: null }, (e) => fired.push(e));
    clock.wait();
    await sleep(30 + BODY_SWEEP_MS * 2);
    assert.equal(fired.length, 1);
    assert.equal(fired[0]!.status, 408);
    assert.equal(fired[0]!.headers?.connection, "close");
    assert.equal(clock.expired, true);
  });

  test("received bytes extend the deadline by 1 s per minRate bytes", async () => {
    const fired: HttpError[] = [];
    const clock = new BodyClock({ timeout: 30, minRate: 1000 }, (e) => fired.push(e));
    clock.wait();
    clock.got(400); // +400 ms
    await sleep(200);
    assert.equal(fired.length, 0, "30 ms + 400 ms not yet passed");
    await sleep(230 + BODY_SWEEP_MS * 2);
    assert.equal(fired.length, 1);
  });

  test("time while not waiting does not count; stop() ends it", async () => {
    const fired: HttpError[] = [];
    const clock = new BodyClock({ timeout: 40, minRate: null }, (e) => fired.push(e));
    clock.wait();
    clock.pause();
    await sleep(40 + BODY_SWEEP_MS * 2);
    assert.equal(fired.length, 0, "paused: a handler processing a chunk");
    clock.wait();
    clock.stop();
    await sleep(40 + BODY_SWEEP_MS * 2);
    assert.equal(fired.length, 0, "stopped: the body is done");
  });

  test("many clocks: stopping or pausing some (in any order) leaves the others to expire, each once", async () => {
    const fired = new Map<number, number>();
    const clocks = Array.from({ length: 9 }, (_, i) => new BodyClock({ timeout: 30, minRate: null }, () => fired.set(i, (fired.get(i) ?? 0) + 1)));
    for (const c of clocks) c.wait();
    // Leave from the middle, the end and the start of the sweep's list, and one twice.
    clocks[4]!.stop();
    clocks[8]!.pause();
    clocks[0]!.stop();
    clocks[0]!.stop();
    clocks[6]!.pause();
    clocks[6]!.wait(); // back, at another place in the list
    await sleep(30 + BODY_SWEEP_MS * 3);
    assert.deepEqual(
      [...fired.entries()].sort((a, b) => a[0] - b[0]),
      [1, 2, 3, 5, 6, 7].map((i) => [i, 1]),
    );
    for (const c of clocks) c.stop();
  });
});
