// How the benches run tako on Node: tsx compiles the bench's own files, and tako itself comes from
// the checkout's compiled package (`dist/`, see bench/node-dist.mjs), built here first: the code a
// Node user of the package runs. Shared by every bench runner that starts Node servers.
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");

/** `node` and its flags for a bench server file (append the file). */
export const NODE_SERVER: readonly string[] = [process.execPath, "--import", "tsx", "--import", join(ROOT, "bench", "node-dist.mjs")];

/**
 * Builds tako's package in each checkout (`tsc -p tsconfig.build.json`), so the servers run what
 * `src/` says now rather than a stale `dist/`; throws with tsc's output when a build fails.
 */
export function buildPackage(dirs: readonly string[] = [ROOT]): void {
  for (const dir of dirs) {
    const r = spawnSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], { cwd: dir, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed in ${dir}:\n${r.stdout}${r.stderr}`);
  }
}
