// The hand-written dispatch the raw Bun.serve and Deno.serve baselines share: what a careful
// user writes without a framework (pathname without `new URL`, JSON.stringify, content types).
const TEXT = { "content-type": "text/plain; charset=utf-8" };
const JSON_HEADERS = { "content-type": "application/json" };

/** The pathname of an absolute request URL ("http://host:port/path?query"), without `new URL`. */
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

/** Synchronous for the GET routes (no promise per request); async only where the body is read. */
export function rawFetch(request: Request): Response | Promise<Response> {
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
}
