// The error catalog: every code in the unions is thrown somewhere in src and listed in
// docs/errors.md, and the page lists no code that does not exist.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (rel: string): string => readFileSync(join(root, rel), "utf8");

function union(rel: string, name: string): string[] {
  const code = read(rel);
  const start = code.indexOf(`export type ${name} =`);
  assert.ok(start >= 0, `${name} in ${rel}`);
  return [...code.slice(start, code.indexOf('";', start) + 1).matchAll(/"(TAKO_[A-Z0-9_]+)"/g)].map((m) => m[1]!);
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [readFileSync(path, "utf8")] : [];
  });
}

const codes = [...union("src/core/errors.ts", "TakoErrorCode"), ...union("src/core/proxy-protocol/header.ts", "ProxyProtocolErrorCode")];

test("every error code has the one prefix TAKO_ERR_", () => {
  assert.ok(codes.length > 10);
  assert.deepEqual(
    codes.filter((c) => !c.startsWith("TAKO_ERR_")),
    [],
  );
});

test("every error code is thrown somewhere in src (no unused codes)", () => {
  // A code is used when it appears outside its own union declaration.
  const all = sources(join(root, "src")).join("\n");
  const unused = codes.filter((c) => all.split(`"${c}"`).length - 1 < 2);
  assert.deepEqual(unused, []);
});

test("docs/errors.md lists exactly the codes that exist", () => {
  const documented = new Set([...read("docs/errors.md").matchAll(/^\| `(TAKO_ERR_[A-Z0-9_]+)`/gm)].map((m) => m[1]!));
  assert.deepEqual([...documented].sort(), [...codes].sort());
});
