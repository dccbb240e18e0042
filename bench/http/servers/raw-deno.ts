// Raw Deno.serve with hand-written dispatch on the URL pathname.
interface DenoApi {
  serve(
    options: { hostname: string; port: number; onListen(addr: { port: number }): void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
  env: { get(name: string): string | undefined };
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const TEXT = { "content-type": "text/plain; charset=utf-8" };
const JSON_HEADERS = { "content-type": "application/json" };

/** The pathname of Deno's absolute request URL ("http://host:port/path?query"), without `new URL`. */
function pathname(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const q = url.indexOf("?", start);
  return q === -1 ? url.slice(start) : url.slice(start, q);
}

/** POST /echo: the only route that needs to wait (for the body). */
async function echo(request: Request): Promise<Response> {
  let value: unknown;
  try {
    value = await request.json();
  } catch {
    return new Response("Bad Request", { status: 400, headers: TEXT });
  }
  return new Response(JSON.stringify(value), { headers: JSON_HEADERS });
}

Deno.serve(
  {
    hostname: "127.0.0.1",
    port: Number(Deno.env.get("PORT") ?? "0"),
    onListen: ({ port }) => console.log(`READY ${port}`),
  },
  // Synchronous for the GET routes (no promise per request); async only where the body is read.
  (request) => {
    const path = pathname(request.url);
    const method = request.method;
    if (path === "/") {
      if (method === "GET" || method === "HEAD") return new Response("Hello, World!", { headers: TEXT });
      return new Response("Method Not Allowed", { status: 405, headers: TEXT });
    }
    if (path.startsWith("/users/")) {
      const raw = path.slice(7);
      if (raw !== "" && !raw.includes("/")) {
        if (method !== "GET" && method !== "HEAD") return new Response("Method Not Allowed", { status: 405, headers: TEXT });
        let id: string;
        try {
          id = decodeURIComponent(raw);
        } catch {
          return new Response("Bad Request", { status: 400, headers: TEXT });
        }
        return new Response(JSON.stringify({ id }), { headers: JSON_HEADERS });
      }
    }
    if (path === "/echo") {
      if (method !== "POST") return new Response("Method Not Allowed", { status: 405, headers: TEXT });
      return echo(request);
    }
    return new Response("Not Found", { status: 404, headers: TEXT });
  },
);
