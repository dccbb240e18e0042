// Microbenchmark: ns per request for a typical GET head (about 300 bytes, 8 header fields)
// through the codec, and through llhttp via Node's binding (headers as JS strings, as node:http
// gets them) when it is reachable. Run: `node --import tsx bench/http1-codec/parser.bench.ts`
// and `bun bench/http1-codec/parser.bench.ts`.
import { Http1Parser } from "../../src/core/http1/parser.ts";

/** A typical browser-like GET head, about 300 bytes with 8 fields; `i` varies the target and the cookie. */
const head = (i: number): string =>
  `GET /api/users/${10000 + i}?fields=name,email HTTP/1.1\r\n` +
  "Host: api.example.com\r\n" +
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0\r\n" +
  "Accept: application/json, */*\r\n" +
  "Accept-Language: en-US,en;q=0.5\r\n" +
  "Accept-Encoding: gzip, deflate, br\r\n" +
  "Connection: keep-alive\r\n" +
  `Cookie: session=${(1e15 + i * 7919).toString(16)}\r\n` +
  "Cache-Control: no-cache\r\n" +
  "\r\n";
const bytes = new TextEncoder().encode(head(0));
/** 1000 different heads (target and cookie differ), cycled: what decoding caches cannot hide. */
const varied = Array.from({ length: 1000 }, (_, i) => new TextEncoder().encode(head(i)));
const N = Number(process.env.N ?? 1_000_000);

function time(name: string, run: () => void): void {
  for (let i = 0; i < N / 10; i++) run(); // warm-up
  const best: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) run();
    best.push(((performance.now() - t0) * 1e6) / N);
  }
  best.sort((a, b) => a - b);
  console.log(`${name}: ${best[0]!.toFixed(0)} ns/request (median ${best[2]!.toFixed(0)}), ${bytes.length}-byte head`);
}

let heads = 0;
const parser = new Http1Parser({
  onHead: () => heads++,
  onBody() {},
  onComplete() {},
});
let k = 0;
time("tako codec, the same head again (a keep-alive client)", () => parser.execute(bytes));
time("tako codec, 1000 heads cycled (target and cookie differ)", () => parser.execute(varied[k++ % 1000]!));

interface Binding {
  HTTPParser: {
    new (): { initialize(t: number, r: object, max: number, l: number): void; execute(b: Uint8Array): unknown; [k: number]: unknown };
    REQUEST: number;
    kOnHeadersComplete: number;
    kOnMessageComplete: number;
  };
}
const runtime = (globalThis as { Bun?: unknown }).Bun === undefined ? "node" : "bun";
if (runtime === "node") {
  const proc = globalThis.process as unknown as { binding(name: string): Binding; emitWarning: (...a: unknown[]) => void };
  proc.emitWarning = () => {};
  const { HTTPParser } = proc.binding("http_parser");
  const p = new HTTPParser();
  p.initialize(HTTPParser.REQUEST, {}, 16384, 0);
  p[HTTPParser.kOnHeadersComplete] = () => heads++;
  p[HTTPParser.kOnMessageComplete] = () => {};
  const buf = Buffer.from(bytes);
  const bufs = varied.map((v) => Buffer.from(v));
  time("llhttp (Node binding), the same head again", () => p.execute(buf));
  time("llhttp (Node binding), 1000 heads cycled", () => p.execute(bufs[k++ % 1000]!));
}
console.log(`(${runtime}; ${heads} heads parsed)`);
