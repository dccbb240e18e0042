// Module hooks for bench/node-dist.mjs (they run on Node's loader thread).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** `<root>/src/<path>.ts` → `<root>/dist/<path>.js` when that file exists; anything else as resolved. */
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const url = resolved.url;
  const at = url.lastIndexOf("/src/");
  if (!url.startsWith("file:") || !url.endsWith(".ts") || at === -1 || url.includes("/node_modules/")) return resolved;
  const compiled = `${url.slice(0, at)}/dist/${url.slice(at + 5, -3)}.js`;
  return existsSync(fileURLToPath(compiled)) ? { ...resolved, url: compiled, format: "module" } : resolved;
}
