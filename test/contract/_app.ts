// The app every runtime serves in the contract suite (and under the h2, TLS and PROXY fixtures):
// one route per behaviour.
import { HttpError, json, Reply, Router } from "../../src/index.ts";

/** Latches for the streaming test: the stream waits until the client releases it. */
const latches = new Map<string, () => void>();
/** The order middleware and handler ran in, per request (the request object is the key). */
const trails = new WeakMap<object, string[]>();
const trail = (req: object, step: string): void => {
  const steps = trails.get(req) ?? [];
  steps.push(step);
  trails.set(req, steps);
};

export function fixtureApp(): Router<{ name: string }> {
  const router = new Router({ state: { name: "fixture" } });
  router.onError(() => {}); // errors are expected here; keep the test output clean
  router.get("/", () => "Hello, World!");
  router.get("/users/{id}", (req) => ({ id: req.params.id }));
  router.get("/files/{*rest}", (req) => ({ rest: req.params.rest }));
  router.post("/echo", async (req) => json(await req.json()));
  router.post("/echo-bytes", async (req) => await req.bytes());
  router.post("/count", async (req) => {
    let n = 0;
    for await (const chunk of req.body ?? []) n += (chunk as Uint8Array).byteLength;
    return { bytes: n };
  });
  router.put("/users/{id}", (req) => `put ${req.params.id}`);
  router.get("/query", (req) => ({ raw: req.rawQuery, a: req.query.getAll("a") }));
  router.get("/header", (req) => ({ value: req.header("X-Probe"), viaHeaders: req.headers.get("x-probe") }));
  router.get("/host", (req) => ({ host: req.header("host") }));
  router.get("/conn", (req) => req.conn);
  router.get("/state", (req) => req.state.name);
  router.get("/boom", () => {
    throw new Error("secret internal detail");
  });
  router.get("/boom-async", async () => {
    throw new Error("secret async detail");
  });
  router.get("/teapot", () => {
    throw new HttpError(418, "short and stout");
  });
  router.get("/bad-header", () => new Reply("x", 200, { "x-bad": "a\r\nInjected: yes" }));
  router.get("/bytes", () => new Uint8Array([0, 1, 2, 253, 254, 255]));
  router.get("/big", () => "x".repeat(1024 * 1024));
  router.get("/response", () => new Response("fetch response", { status: 202, headers: { "x-from": "response" } }));
  router.get("/cookies", () => new Reply("c", 200, { "set-cookie": ["a=1", "b=2"] }));
  router.get("/stream/{id}", (req) => {
    const id = req.params.id;
    return (async function* () {
      yield "first\n";
      await new Promise<void>((resolve) => latches.set(id, resolve));
      yield "second\n";
    })();
  });
  router.post("/release/{id}", (req) => {
    const release = latches.get(req.params.id);
    latches.delete(req.params.id);
    release?.();
    return { released: release !== undefined };
  });
  // A handler may set HTTP/1.1 connection headers; HTTP/2 forbids them on the wire (RFC 9113 §8.2.2).
  router.get("/hop-by-hop", () => new Response("ok", { headers: { connection: "keep-alive", "keep-alive": "timeout=5", "transfer-encoding": "chunked", "x-kept": "yes" } }));
  router.scope("/mw", (s) => {
    s.middleware(async (req, next) => {
      trail(req, "outer in");
      if (req.path === "/mw/deny") return new Reply("denied by middleware", 403);
      const res = await next();
      res.headers.set("x-mw", "1");
      res.headers.append("x-trail", "outer out");
      return res;
    });
    s.get("/x", (req) => {
      trail(req, "handler");
      return [...(trails.get(req) ?? [])].join(", ");
    }).middleware(async (req, next) => {
      trail(req, "inner in");
      const res = await next();
      res.headers.append("x-trail", "inner out");
      return res;
    });
    s.get("/deny", () => "the handler must not run");
  });
  return router;
}
