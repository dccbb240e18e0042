// The part of Deno's API the Deno bench servers use (no Deno types are installed).
interface DenoApi {
  serve(
    options: { hostname: string; port: number; onListen(addr: { port: number }): void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
  env: { get(name: string): string | undefined };
}

export const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

/** Serves `handler` on 127.0.0.1:$PORT and prints "READY <port>". */
export function serveDeno(handler: (request: Request) => Response | Promise<Response>): void {
  Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? "0"), onListen: ({ port }) => console.log(`READY ${port}`) }, handler);
}
