// The fixture app every runtime serves in the conformance suite: one route per behaviour.
import { HttpError, json, Reply, Router } from "../../src/index.ts";

/** Latches for the streaming test: the stream waits until the client releases it. */
const latches = new Map<string, () => void>();

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
  router.get("/slow", async () => {
    await new Promise((r) => setTimeout(r, 200));
    return "slow";
  });
  router.scope("/mw", (s) => {
    s.middleware(async (_req, next) => {
      const res = await next();
      res.headers.set("x-mw", "1");
      return res;
    });
    s.get("/x", () => "through middleware");
  });
  return router;
}
