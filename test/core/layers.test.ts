// Layer boundaries (DESIGN.md "Architecture"): only src/adapters/** may touch node:*, Bun or
// Deno, so the core and the facade stay runtime-neutral. A grep, kept as a test so it fails CI.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const src = fileURLToPath(new URL("../../src/", import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

test("no runtime API outside src/adapters", () => {
  const offenders: string[] = [];
  for (const file of files(src)) {
    const rel = relative(src, file);
    if (rel.startsWith("adapters")) continue;
    const code = readFileSync(file, "utf8").replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, "");
    if (/from\s+["']node:|import\(\s*["']node:|\bBun\.|\bDeno\.|\bprocess\.|\bBuffer\b/.test(code)) offenders.push(rel);
  }
  assert.deepEqual(offenders, []);
});

test("adapters do not import each other, except the shared node:net socket path", () => {
  // Bun and Deno may use the Node engine's socket path (their node:net); nothing else crosses.
  const allowed: Record<string, string[]> = { node: [], bun: ["node"], deno: ["node"] };
  for (const runtime of ["node", "bun", "deno"]) {
    for (const file of files(join(src, "adapters", runtime))) {
      const code = readFileSync(file, "utf8");
      for (const other of ["node", "bun", "deno"].filter((o) => o !== runtime && !allowed[runtime]!.includes(o))) {
        assert.doesNotMatch(code, new RegExp(`adapters/${other}/|\\.\\./${other}/`), `${relative(src, file)} imports the ${other} adapter`);
      }
    }
  }
});
