// Raw Bun.serve with hand-written dispatch on the URL pathname.
import { rawFetch } from "./_raw-fetch.ts";

interface BunApi {
  serve(options: { hostname: string; port: number; fetch(request: Request): Response | Promise<Response> }): { readonly port: number };
  env: Record<string, string | undefined>;
}
const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;

const server = Bun.serve({ hostname: "127.0.0.1", port: Number(Bun.env.PORT ?? "0"), fetch: rawFetch });
console.log(`READY ${server.port}`);
