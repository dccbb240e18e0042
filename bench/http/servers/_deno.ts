// The part of Deno's API the Deno bench servers use (no Deno types are installed).
interface DenoApi {
  serve(
    options: { hostname: string; port: number; onListen(addr: { port: number }): void; cert?: string; key?: string },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
  env: { get(name: string): string | undefined };
}

export const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

/**
 * Serves `handler` on 127.0.0.1:$PORT and prints "READY <port>"; over TLS when given the PEM text
 * of a certificate and its key (Deno.serve then offers ALPN h2 and http/1.1).
 */
export function serveDeno(handler: (request: Request) => Response | Promise<Response>, tls: { cert: string; key: string } | null = null): void {
  Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? "0"), onListen: ({ port }) => console.log(`READY ${port}`), ...tls }, handler);
}
