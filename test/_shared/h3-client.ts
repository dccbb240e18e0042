// An HTTP/3 client run under Bun (`fetch(url, { protocol: "http3" })`), spawned by the Node test
// runner through `h3Fetch` (test/_shared/h3.ts). argv[2]: a JSON `H3Job`; prints one JSON
// `H3Result` per request, in order. Bun's HTTP/3 client takes no CA (a `tls.ca` makes it fail
// with HTTP3Unsupported; Bun 1.4.5), so it runs with `rejectUnauthorized: false`: certificate
// checks are gtlsclient's and the TLS suite's business.
import { createHash } from "node:crypto";
import type { H3Job, H3Request, H3Result } from "./h3.ts";

const job = JSON.parse(process.argv[2]!) as H3Job;
const base = `https://127.0.0.1:${job.port}`;

function bodyOf(r: H3Request): string | Uint8Array | undefined {
  if (r.body === undefined) return undefined;
  if (typeof r.body === "string") return r.body;
  return new Uint8Array(r.body.size).fill(r.body.byte ?? 120);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const sha = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

async function one(r: H3Request): Promise<H3Result> {
  const started = performance.now();
  const init = {
    method: r.method ?? "GET",
    headers: r.headers ?? {},
    body: bodyOf(r),
    protocol: "http3",
    tls: { rejectUnauthorized: false },
    signal: AbortSignal.timeout(r.timeoutMs ?? 10_000),
  } as RequestInit;
  try {
    const response = await fetch(base + r.path, init);
    const headers: Record<string, string> = {};
    for (const [name, value] of response.headers) headers[name] = value;
    const chunks: string[] = [];
    let bytes: Uint8Array;
    if (r.releasePath !== undefined && response.body !== null) {
      // Streaming: the first chunk must arrive before the handler is released.
      const reader = response.body.getReader();
      const first = await reader.read();
      const head = first.value ?? new Uint8Array(0);
      chunks.push(new TextDecoder().decode(head));
      await fetch(base + r.releasePath, { ...init, method: "POST", body: undefined, signal: AbortSignal.timeout(10_000) } as RequestInit).then((x) => x.arrayBuffer());
      const rest: Uint8Array[] = [];
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        rest.push(next.value);
      }
      const tail = concat(rest);
      chunks.push(new TextDecoder().decode(tail));
      bytes = concat([head, tail]);
    } else bytes = new Uint8Array(await response.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    return {
      ok: true,
      status: response.status,
      headers,
      length: bytes.byteLength,
      sha256: sha(bytes),
      text: text.length > 65_536 ? text.slice(0, 65_536) : text,
      chunks,
      ms: performance.now() - started,
    };
  } catch (error) {
    const e = error as { code?: string; name?: string; message?: string };
    return { ok: false, error: e.code ?? e.name ?? "Error", message: String(e.message ?? error), ms: performance.now() - started };
  }
}

const results = job.parallel === true ? await Promise.all(job.requests.map(one)) : [];
if (job.parallel !== true) for (const r of job.requests) results.push(await one(r));
for (const result of results) console.log(JSON.stringify(result));
process.exit(0);
