// The published package: built, packed with npm, installed into a fresh project, and imported
// as "tako" on Node.js, Bun and Deno, serving a request from identical user code.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { commandFor, RUNTIMES } from "../_shared/spawn.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
let project = "";

const userCode = `
import { Router, Method, serve, TcpListener, json } from "tako";
const router = new Router();
router.route(Method.GET, "/", () => "Hello, World!");
router.get("/users/{id}", (req) => json({ id: req.params.id }));
const listener = await TcpListener.bind("127.0.0.1:0");
const { port } = listener.localAddr();
serve(listener, router);
const a = await (await fetch(\`http://127.0.0.1:\${port}/\`)).text();
const b = await (await fetch(\`http://127.0.0.1:\${port}/users/7\`)).json();
console.log(JSON.stringify({ a, b }));
await listener.close();
`;

before(() => {
  project = mkdtempSync(join(tmpdir(), "tako-pkg-"));
  execFileSync("npm", ["pack", "--silent", "--pack-destination", project], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  const tarball = readdirSync(project).find((n) => n.endsWith(".tgz"))!;
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module", dependencies: { tako: `file:./${tarball}` } }));
  // From npm's cache where it can: `--offline` failed on a machine whose cache held the `ws`
  // tarball (from `npm ci`) but not its registry metadata, which resolving `ws@^8` needs.
  execFileSync("npm", ["install", "--silent", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: project, stdio: ["ignore", "ignore", "inherit"] });
  writeFileSync(join(project, "main.js"), userCode);
});

after(() => rmSync(project, { recursive: true, force: true }));

for (const runtime of RUNTIMES) {
  test(`import "tako" from the packed package on ${runtime}`, () => {
    const [cmd, args] = commandFor(runtime, join(project, "main.js"));
    // Node runs the built JavaScript without tsx: drop the loader.
    const argv = runtime === "node" ? [join(project, "main.js")] : args;
    const out = execFileSync(cmd, argv, { cwd: project, encoding: "utf8", timeout: 30_000 });
    assert.deepEqual(JSON.parse(out.trim().split("\n").pop()!), { a: "Hello, World!", b: { id: "7" } });
  });
}

test("the package ships type declarations for its public entry", () => {
  const files = readdirSync(join(project, "node_modules/tako/dist"));
  assert.ok(files.includes("index.d.ts") && files.includes("index.js"));
});

test("the package ships tako/otel, with @opentelemetry/api an optional peer (not installed with tako)", () => {
  const pkg = JSON.parse(readFileSync(join(project, "node_modules/tako/package.json"), "utf8")) as {
    exports: Record<string, { types: string; default: string }>;
    peerDependencies: Record<string, string>;
    peerDependenciesMeta: Record<string, { optional?: boolean }>;
  };
  assert.deepEqual(pkg.exports["./otel"], { types: "./dist/otel/index.d.ts", default: "./dist/otel/index.js" });
  const files = readdirSync(join(project, "node_modules/tako/dist/otel"));
  assert.ok(files.includes("index.js") && files.includes("index.d.ts"));
  assert.equal(pkg.peerDependenciesMeta["@opentelemetry/api"]?.optional, true);
  assert.ok(pkg.peerDependencies["@opentelemetry/api"] !== undefined);
  assert.equal(existsSync(join(project, "node_modules/@opentelemetry/api")), false, "an optional peer is not installed for the user");
});

test("HTTP/3 on Node.js and Deno comes from @currentspace/http3, an optional peer (not installed with tako)", () => {
  const pkg = JSON.parse(readFileSync(join(project, "node_modules/tako/package.json"), "utf8")) as {
    peerDependencies: Record<string, string>;
    peerDependenciesMeta: Record<string, { optional?: boolean }>;
  };
  assert.equal(pkg.peerDependenciesMeta["@currentspace/http3"]?.optional, true);
  assert.match(pkg.peerDependencies["@currentspace/http3"] ?? "", /0\.9/);
  assert.equal(existsSync(join(project, "node_modules/@currentspace/http3")), false, "an optional peer is not installed for the user");
});
