// The codec is plain TypeScript over bytes, meant for Bun and Deno engines: it must read every
// input exactly as it does under Node, where the differential test compares it with llhttp.
// The same seeded cases run under each runtime; the digests of the results must match.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { commandFor } from "../_shared/spawn.ts";
import { codecDigest } from "./_digest.ts";

const SEED = 0x7a6b0;
const CASES = 5000;

for (const runtime of ["bun", "deno"] as const) {
  test(`${runtime} reads the ${CASES} seeded cases exactly as Node does`, { timeout: 60_000 }, () => {
    const [cmd, args] = commandFor(runtime, "test/http1-codec/_digest.ts");
    const digest = execFileSync(cmd, [...args, String(SEED), String(CASES)], { encoding: "utf8" }).trim();
    assert.equal(digest, codecDigest(SEED, CASES));
  });
}
