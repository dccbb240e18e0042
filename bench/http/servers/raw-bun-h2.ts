// Raw Bun.serve over cleartext HTTP/2 (h2c, prior knowledge: `http2: true` without TLS), with the
// hand-written dispatch of the HTTP/1.1 baseline (raw-bun.ts).
import { rawFetch } from "./_raw-fetch.ts";

type Serve = (options: { hostname: string; port: number; http2: boolean; fetch: typeof rawFetch }) => { readonly port: number };
const Bun = (globalThis as unknown as { Bun: { serve: Serve; env: Record<string, string | undefined> } }).Bun;

const server = Bun.serve({ hostname: "127.0.0.1", port: Number(Bun.env.PORT ?? "0"), http2: true, fetch: rawFetch });
console.log(`READY ${server.port}`);
