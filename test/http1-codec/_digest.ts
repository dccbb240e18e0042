// Prints a digest of what the codec made of the differential test's seeded cases, so that the
// same cases can be compared across runtimes (runtimes.test.ts). Runs under Node, Bun and Deno.
import { createHash } from "node:crypto";
import { collect, split } from "./_collect.ts";
import { fuzzCase, prng } from "./_fuzz.ts";

/** The digest of the codec's results on `cases` seeded cases. */
export function codecDigest(seed: number, cases: number): string {
  const rand = prng(seed);
  const hash = createHash("sha256");
  for (let i = 0; i < cases; i++) {
    const { bytes, cuts } = fuzzCase(rand);
    const t = collect(split(bytes, cuts));
    hash.update(
      JSON.stringify([t.error?.code ?? null, t.error?.message ?? null, t.upgrade, t.consumed, t.requests.map((r) => [r.head, r.body.toString("latin1"), r.trailers, r.complete])]),
    );
  }
  return hash.digest("hex");
}

if (process.argv[1]?.endsWith("_digest.ts")) console.log(codecDigest(Number(process.argv[2]), Number(process.argv[3])));
