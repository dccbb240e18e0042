// The project's malformed-input / smuggling table (test/http1-codec/_table.ts, from the wire
// suites) through the codec and the head rules above it: the same verdict and status as tako
// on Node, whole and cut at every byte boundary; and never a request llhttp would refuse.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { headProblem } from "../../src/core/http1/head-rules.ts";
import { type Collected, collect, split } from "./_collect.ts";
import { llhttpParse } from "./_llhttp.ts";
import { TABLE } from "./_table.ts";

/** The status tako would answer after the codec and the head rules: 0 when every request is served. */
function verdict(c: Collected): { status: number; requests: number } {
  for (let k = 0; k < c.requests.length; k++) {
    const problem = headProblem(c.requests[k]!.head);
    if (problem !== null) return { status: problem.status, requests: k };
  }
  return { status: c.error?.status ?? 0, requests: c.requests.filter((r) => r.complete).length };
}

/** A short summary that must not depend on where the bytes were cut. */
const summary = (c: Collected): string => JSON.stringify([c.error?.code ?? null, c.requests.map((r) => [r.head, r.body.toString("latin1"), r.trailers, r.complete])]);

describe("the project's malformed-input and smuggling table: the codec answers as tako on Node", () => {
  for (const row of TABLE) {
    test(`${row.name} → ${row.node === 0 ? "served" : row.node}`, () => {
      const bytes = Buffer.from(row.bytes, "latin1");
      const whole = collect([bytes]);
      const v = verdict(whole);
      assert.equal(v.status, row.node, `codec: ${whole.error?.code ?? "ok"} ${whole.error?.message ?? ""}`);
      if (row.requests !== undefined) assert.equal(v.requests, row.requests);
      const l = llhttpParse([bytes]);
      if (l.error !== null) assert.notEqual(whole.error, null, `llhttp refuses (${l.error}), the codec must too`);
      const expected = summary(whole);
      const cuts = bytes.length > 2000 ? [1, 17, 100, 1000, bytes.length - 3, bytes.length - 1] : Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
      for (const cut of cuts) assert.equal(summary(collect(split(bytes, [cut]))), expected, `cut at ${cut}`);
      if (bytes.length <= 2000) assert.equal(summary(collect(Array.from(bytes, (b) => Uint8Array.of(b)))), expected, "one byte at a time");
    });
  }
});
