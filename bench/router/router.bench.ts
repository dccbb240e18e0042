/**
 * Route lookup micro-benchmark: tako's `router.match(method, path)` against find-my-way's
 * `find(method, path)` (as built: its interpreted tree walk; and after `compile()`, the code it
 * generates per method tree, which is what Fastify calls) on the same ~50-route table and the
 * same lookups, hits and misses. Every lookup is first checked to give the same answer (route
 * and params) on every contender; only then is anything timed. Each contender builds its result
 * and params object eagerly, and every hit is kept (see `lastHit`). The same path strings are
 * looked up again and again, so V8 has their hashes cached: that favours tako's whole-path Map for
 * static routes, where a server hashes each request's fresh path once.
 *
 *   node --import tsx bench/router/router.bench.ts [--samples 15] [--sample-ms 60] [--json FILE]
 *
 * Pin it to one core for stable numbers: `taskset -c 0 node --import tsx bench/router/router.bench.ts`.
 */
import { writeFileSync } from "node:fs";
import FindMyWay from "find-my-way";
import { Router } from "../../src/index.ts";

type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** The route table in tako syntax; find-my-way's is derived from it (`{id}` → `:id`, `{*rest}` → `*`). */
const ROUTES: readonly (readonly [HttpMethod, string])[] = [
  ["GET", "/"],
  ["GET", "/health"],
  ["GET", "/about"],
  ["GET", "/contact"],
  ["GET", "/search"],
  ["GET", "/api/v1/status"],
  ["GET", "/api/v1/version"],
  ["GET", "/users"],
  ["POST", "/users"],
  ["GET", "/users/me"],
  ["GET", "/users/me/settings"],
  ["GET", "/users/{id}"],
  ["PUT", "/users/{id}"],
  ["DELETE", "/users/{id}"],
  ["GET", "/users/{id}/posts"],
  ["POST", "/users/{id}/posts"],
  ["GET", "/users/{id}/posts/{postId}"],
  ["PUT", "/users/{id}/posts/{postId}"],
  ["DELETE", "/users/{id}/posts/{postId}"],
  ["GET", "/users/{id}/posts/{postId}/comments"],
  ["GET", "/users/{id}/posts/{postId}/comments/{commentId}"],
  ["GET", "/users/{id}/followers"],
  ["GET", "/users/{id}/following"],
  ["GET", "/orgs"],
  ["GET", "/orgs/{org}"],
  ["GET", "/orgs/{org}/members"],
  ["GET", "/orgs/{org}/repos"],
  ["GET", "/orgs/{org}/repos/{repo}"],
  ["GET", "/orgs/{org}/repos/{repo}/issues"],
  ["POST", "/orgs/{org}/repos/{repo}/issues"],
  ["GET", "/orgs/{org}/repos/{repo}/issues/{number}"],
  ["PATCH", "/orgs/{org}/repos/{repo}/issues/{number}"],
  ["GET", "/orgs/{org}/repos/{repo}/pulls/{number}/files"],
  ["GET", "/products"],
  ["GET", "/products/{sku}"],
  ["GET", "/products/{sku}/reviews"],
  ["GET", "/categories/{cat}/products"],
  ["GET", "/blog"],
  ["GET", "/blog/{year}/{month}/{slug}"],
  ["GET", "/api/v2/items"],
  ["POST", "/api/v2/items"],
  ["GET", "/api/v2/items/{id}"],
  ["PATCH", "/api/v2/items/{id}"],
  ["DELETE", "/api/v2/items/{id}"],
  ["GET", "/admin/dashboard"],
  ["GET", "/admin/users"],
  ["GET", "/admin/users/{id}"],
  ["GET", "/admin/settings"],
  ["GET", "/static/{*rest}"],
  ["GET", "/assets/{*path}"],
  ["GET", "/files/{id}/{*path}"],
  ["GET", "/docs/{*page}"],
];

type Kind = "static" | "param" | "catch-all" | "miss";

/** The lookups, each tagged with what it should exercise. */
const LOOKUPS: readonly (readonly [Kind, HttpMethod, string])[] = [
  ["static", "GET", "/"],
  ["static", "GET", "/health"],
  ["static", "GET", "/api/v1/status"],
  ["static", "GET", "/users"],
  ["static", "POST", "/users"],
  ["static", "GET", "/users/me"],
  ["static", "GET", "/users/me/settings"],
  ["static", "GET", "/admin/dashboard"],
  ["static", "GET", "/api/v2/items"],
  ["param", "GET", "/users/42"],
  ["param", "PUT", "/users/42"],
  ["param", "GET", "/users/me/posts"], // static "me" has no "posts": backtracks to {id}
  ["param", "GET", "/users/42/posts/7"],
  ["param", "GET", "/users/42/posts/7/comments/99"],
  ["param", "GET", "/orgs/acme/repos/tako/issues/123"],
  ["param", "GET", "/orgs/acme/repos/tako/pulls/9/files"],
  ["param", "GET", "/products/SKU-123456/reviews"],
  ["param", "GET", "/blog/2024/05/hello-world"],
  ["param", "PATCH", "/api/v2/items/abc"],
  ["param", "GET", "/users/caf%C3%A9"], // percent-decoded param
  ["catch-all", "GET", "/static/css/site.css"],
  ["catch-all", "GET", "/assets/img/logo/large.png"],
  ["catch-all", "GET", "/files/12/a/b/c.txt"],
  ["catch-all", "GET", "/docs/guide/routing/params"],
  ["miss", "GET", "/nope"],
  ["miss", "GET", "/api/v1"],
  ["miss", "DELETE", "/health"],
  ["miss", "POST", "/users/42/followers"],
  ["miss", "GET", "/users/42/posts/7/extra/deep/path"],
  ["miss", "GET", "/orgs/acme/repos/tako/unknown"],
  ["miss", "PUT", "/static/x"],
  ["miss", "GET", "/favicon.ico"],
];

interface Found {
  pattern: string;
  params: Record<string, string>;
}

const toFmw = (pattern: string): string => pattern.replace(/\{\*[^}]+\}/g, "*").replace(/\{([^}]+)\}/g, ":$1");
const catchAllName = (pattern: string): string | null => /\{\*([^}]+)\}/.exec(pattern)?.[1] ?? null;

function buildTako(): Router {
  const router = new Router();
  for (const [method, pattern] of ROUTES) router.route(method, pattern, () => pattern);
  return router;
}

function buildFmw(compile: boolean): FindMyWay.Instance<FindMyWay.HTTPVersion.V1> {
  const fmw = FindMyWay();
  for (const [method, pattern] of ROUTES) fmw.on(method, toFmw(pattern), () => {}, pattern);
  if (compile) fmw.compile();
  return fmw;
}

const tako = buildTako();
const fmw = buildFmw(false);
const fmwCompiled = buildFmw(true);

/** Normalised answers, for the equivalence check only (not timed). */
function takoFound(method: string, path: string): Found | null {
  const m = tako.match(method, path);
  return m === null ? null : { pattern: m.pattern, params: { ...m.params } };
}
function fmwFound(router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>, method: HttpMethod, path: string): Found | null {
  const m = router.find(method, path);
  if (m === null) return null;
  const pattern = m.store as string;
  const params: Record<string, string> = {};
  const rest = catchAllName(pattern);
  for (const [k, v] of Object.entries(m.params)) if (v !== undefined) params[k === "*" && rest !== null ? rest : k] = v;
  return { pattern, params };
}

function verify(): void {
  const bad: string[] = [];
  for (const [kind, method, path] of LOOKUPS) {
    const a = JSON.stringify(takoFound(method, path));
    const b = JSON.stringify(fmwFound(fmw, method, path));
    const c = JSON.stringify(fmwFound(fmwCompiled, method, path));
    if (a !== b || a !== c) bad.push(`  ${method} ${path}: tako=${a} find-my-way=${b} compiled=${c}`);
    if ((kind === "miss") !== (a === "null")) bad.push(`  ${method} ${path}: expected ${kind}, tako gave ${a}`);
  }
  if (bad.length > 0) {
    console.error(`router bench: the routers disagree, refusing to time them:\n${bad.join("\n")}`);
    process.exit(1);
  }
}

type Lookup = (method: HttpMethod, path: string) => unknown;

const CONTENDERS: readonly (readonly [string, Lookup])[] = [
  ["tako match", (m, p) => tako.match(m, p)],
  ["find-my-way find", (m, p) => fmw.find(m, p)],
  ["find-my-way find (compiled)", (m, p) => fmwCompiled.find(m, p)],
];

let sink = 0;
/**
 * Every hit is stored here: a result that escapes to module state must really be built (its
 * params object included), so no contender's allocations can be optimised away.
 */
let lastHit: unknown = null;

/** Runs the whole lookup list `rounds` times; returns elapsed nanoseconds. */
function timeRounds(lookup: Lookup, methods: readonly HttpMethod[], paths: readonly string[], rounds: number): number {
  const n = paths.length;
  let hits = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) {
      const found = lookup(methods[i]!, paths[i]!);
      if (found !== null) {
        hits++;
        lastHit = found;
      }
    }
  }
  const t1 = process.hrtime.bigint();
  sink += hits;
  return Number(t1 - t0);
}

let redone = 0;

/**
 * One timed sample. Pinned to one CPU, this process should get all of it: when its CPU time is
 * under 95% of the wall time, something else ran on the CPU meanwhile and the sample is redone
 * (up to 5 times).
 */
function timeSample(lookup: Lookup, methods: readonly HttpMethod[], paths: readonly string[], rounds: number): number {
  for (let attempt = 0; ; attempt++) {
    const cpu0 = process.cpuUsage();
    const ns = timeRounds(lookup, methods, paths, rounds);
    const cpu = process.cpuUsage(cpu0);
    if ((cpu.user + cpu.system) * 1000 >= ns * 0.95 || attempt === 5) return ns;
    redone++;
  }
}

/** How many rounds of the list take about `ms` milliseconds with `lookup`. */
function calibrate(lookup: Lookup, methods: readonly HttpMethod[], paths: readonly string[], ms: number): number {
  let rounds = 16;
  for (;;) {
    const ns = timeRounds(lookup, methods, paths, rounds);
    if (ns >= ms * 1e6 * 0.25) return Math.max(1, Math.round((rounds * ms * 1e6) / ns));
    rounds *= 4;
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

interface Row {
  set: string;
  lookups: number;
  results: { name: string; medianNs: number; minNs: number; maxNs: number; perSecond: number; samplesNs: number[] }[];
}

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at !== -1 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

function main(): void {
  const samples = Number(arg("samples", "15"));
  const sampleMs = Number(arg("sample-ms", "60"));
  const jsonOut = arg("json", "");
  verify();
  console.log(
    `router lookup bench: ${ROUTES.length} routes, ${LOOKUPS.length} lookups (all answers verified identical), ${samples} samples × ~${sampleMs} ms each, node ${process.version}\n`,
  );

  const sets: [string, (typeof LOOKUPS)[number][]][] = [
    ["mix (all lookups)", [...LOOKUPS]],
    ["static hits", LOOKUPS.filter((l) => l[0] === "static")],
    ["param hits", LOOKUPS.filter((l) => l[0] === "param")],
    ["catch-all hits", LOOKUPS.filter((l) => l[0] === "catch-all")],
    ["misses", LOOKUPS.filter((l) => l[0] === "miss")],
  ];

  // Warm-up: every contender on the full mix, so all code paths are optimised before timing.
  const allMethods = LOOKUPS.map((l) => l[1]);
  const allPaths = LOOKUPS.map((l) => l[2]);
  for (const [, lookup] of CONTENDERS) {
    const rounds = calibrate(lookup, allMethods, allPaths, 100);
    for (let i = 0; i < 5; i++) timeRounds(lookup, allMethods, allPaths, rounds);
  }

  const rows: Row[] = [];
  for (const [set, list] of sets) {
    const methods = list.map((l) => l[1]);
    const paths = list.map((l) => l[2]);
    const rounds = CONTENDERS.map(([, lookup]) => calibrate(lookup, methods, paths, sampleMs));
    const times: number[][] = CONTENDERS.map(() => []);
    // Interleaved: each sample times every contender once, in a rotating order.
    for (let s = 0; s < samples; s++) {
      for (let k = 0; k < CONTENDERS.length; k++) {
        const c = (k + s) % CONTENDERS.length;
        times[c]!.push(timeSample(CONTENDERS[c]![1], methods, paths, rounds[c]!) / (rounds[c]! * list.length));
      }
    }
    rows.push({
      set,
      lookups: list.length,
      results: CONTENDERS.map(([name], c) => {
        const t = times[c]!;
        const med = median(t);
        return { name, medianNs: med, minNs: Math.min(...t), maxNs: Math.max(...t), perSecond: 1e9 / med, samplesNs: t };
      }),
    });
  }

  const names = CONTENDERS.map(([name]) => name);
  const fmt = (ns: number): string => `${ns.toFixed(1)} ns`;
  const rate = (perSecond: number): string => `${(perSecond / 1e6).toFixed(1)} M/s`;
  console.log(`| lookups | ${names.join(" | ")} | tako ÷ find-my-way | tako ÷ compiled |`);
  console.log(`|---|${names.map(() => "---:").join("|")}|---:|---:|`);
  for (const row of rows) {
    const [t, f, fc] = row.results;
    const cells = row.results.map((r) => `${fmt(r.medianNs)} (${rate(r.perSecond)})`);
    // Speed ratio, > 1 means tako does more lookups per second. Taken per sample (the contenders
    // of one sample ran back to back, under the same machine conditions), then the median.
    const ratio = (other: Row["results"][number]): string => `${median(other.samplesNs.map((ns, s) => ns / t!.samplesNs[s]!)).toFixed(2)}×`;
    console.log(`| ${row.set} (${row.lookups}) | ${cells.join(" | ")} | ${ratio(f!)} | ${ratio(fc!)} |`);
  }
  console.log("\nmedian ns per lookup (lookups per second); ratio = find-my-way ns ÷ tako ns within each sample, median over samples; > 1 means tako is faster.");
  const spread = rows.flatMap((r) => r.results.map((x) => (x.maxNs - x.minNs) / x.medianNs));
  console.log(
    `largest sample spread (max − min) ÷ median across all cells: ${(Math.max(...spread) * 100).toFixed(0)}%; samples redone because another process took the CPU: ${redone}`,
  );
  if (sink === -1 || lastHit === sink) console.log(""); // keeps the results observable

  if (jsonOut !== "") {
    writeFileSync(
      jsonOut,
      `${JSON.stringify({ date: new Date().toISOString(), node: process.version, routes: ROUTES.length, lookups: LOOKUPS, samples, sampleMs, redone, rows }, null, 2)}\n`,
    );
    console.log(`raw numbers: ${jsonOut}`);
  }
}

main();
