// The params builders: compiled (object literal) and loop (runtimes that forbid compiling) give the same objects.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CAN_COMPILE, paramsBuilder } from "../../src/core/router/params.ts";
import { Router } from "../../src/index.ts";

describe("route params builders", () => {
  test("this runtime compiles them", () => {
    assert.equal(CAN_COMPILE, true);
  });

  const cases: string[][] = [["id"], ["id", "postId"], ["org", "repo", "number", "file"], ["_", "a1", "Z_9"], ["constructor", "toString", "hasOwnProperty"], ["__proto__", "x"]];
  for (const names of cases) {
    test(`compiled and loop builders agree for ${names.join(", ")}`, () => {
      const values = names.map((n, i) => `${n}-${i}`);
      const compiled = paramsBuilder(names, true)(values);
      const loop = paramsBuilder(names, false)(values);
      assert.deepEqual(compiled, loop);
      assert.deepEqual(Object.keys(compiled), Object.keys(loop), "same key order");
      assert.equal(Object.getPrototypeOf(compiled), Object.prototype);
      assert.equal(Object.getPrototypeOf(loop), Object.prototype);
      assert.equal(JSON.stringify(compiled), JSON.stringify(loop));
    });
  }

  test("each call gives a new object holding the values of that call", () => {
    for (const compile of [true, false]) {
      const build = paramsBuilder(["a", "b"], compile);
      const values = ["1", "2"];
      const first = build(values);
      values[0] = "changed";
      const second = build(values);
      assert.notEqual(first, second);
      assert.deepEqual(first, { a: "1", b: "2" });
      assert.deepEqual(second, { a: "changed", b: "2" });
    }
  });

  test("a parameter named __proto__ is dropped by both, as plain assignment always did", () => {
    const r = new Router();
    r.get("/p/{__proto__}/{x}", () => "p");
    assert.deepEqual(r.match("GET", "/p/a/b"), { pattern: "/p/{__proto__}/{x}", params: { x: "b" } });
  });

  test("params seen by handlers have the pattern's names in order", async () => {
    const r = new Router();
    r.get("/u/{id}/p/{postId}/{*rest}", (req) => JSON.stringify(req.params));
    const res = await r.fetch(new Request("http://test/u/1/p/2/a/b"));
    assert.equal(await res.text(), '{"id":"1","postId":"2","rest":"a/b"}');
  });
});
