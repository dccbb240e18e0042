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

/** Every relative import of `file`, resolved to a path under src/. */
function importsOf(file: string): string[] {
  const code = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of code.matchAll(/(?:from|import\()\s*["'](\.{1,2}\/[^"']+)["']/g)) out.push(relative(src, join(file, "..", m[1]!)));
  return out;
}

const layerOf = (rel: string): string => rel.split("/")[0]!;

test("arrows only point down: core imports nothing above it, adapters never import the facade", () => {
  // DESIGN.md: core ← adapters (engines) ← server (facade); index.ts is the public surface on top.
  const allowed: Record<string, string[]> = { core: ["core"], adapters: ["core", "adapters"], server: ["core", "adapters", "server"] };
  const upward: string[] = [];
  for (const file of files(src)) {
    const rel = relative(src, file);
    const layer = layerOf(rel);
    if (allowed[layer] === undefined) continue; // index.ts
    for (const target of importsOf(file)) if (!allowed[layer]!.includes(layerOf(target))) upward.push(`${rel} → ${target}`);
  }
  assert.deepEqual(upward, []);
});

test("the import graph has no cycle between folders", () => {
  // Folder-level graph (core/router, adapters/node …); files within one folder may import each
  // other, and index.ts barrels (public re-exports) sit on top of their folder's children.
  const folderOf = (rel: string): string => rel.split("/").slice(0, -1).join("/") || ".";
  const edges = new Map<string, Set<string>>();
  for (const file of files(src)) {
    if (file.endsWith("index.ts")) continue;
    const from = folderOf(relative(src, file));
    for (const target of importsOf(file)) {
      const to = folderOf(target);
      if (to !== from) (edges.get(from) ?? edges.set(from, new Set()).get(from)!).add(to);
    }
  }
  const state = new Map<string, "visiting" | "done">();
  const cycle: string[] = [];
  const visit = (node: string, path: string[]): boolean => {
    if (state.get(node) === "done") return false;
    if (state.get(node) === "visiting") {
      cycle.push(...path.slice(path.indexOf(node)), node);
      return true;
    }
    state.set(node, "visiting");
    for (const next of edges.get(node) ?? []) if (visit(next, [...path, node])) return true;
    state.set(node, "done");
    return false;
  };
  for (const node of edges.keys()) if (visit(node, [])) break;
  assert.deepEqual(cycle, [], `folder import cycle: ${cycle.join(" → ")}`);
});

test("adapters do not import each other, except the shared node:net path", () => {
  // Bun and Deno may use the Node engine's transports on their node:net; nothing else crosses.
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
