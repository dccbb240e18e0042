// Server of bench/http/proxy/client.mjs: `spawnHttp` behind `proxyProtocol("required")` (GET /
// answers "Hello, World!") from the tako checkout in TREE (default: this one), or raw Bun.serve
// with RAW=1 (no PROXY header then). Prints "PORT <n>". Run it under Bun.
const tree = process.env.TREE ?? new URL("../../../", import.meta.url).pathname;
if (process.env.RAW === "1") {
  const bun = (globalThis as unknown as { Bun: { serve(o: object): { port: number } } }).Bun;
  const s = bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("Hello, World!") });
  console.log(`PORT ${s.port}`);
} else {
  const tako = (await import(`${tree}/src/index.ts`)) as typeof import("../../../src/index.ts");
  const router = new tako.Router();
  router.get("/", () => "Hello, World!");
  const listener = await tako.TcpListener.bind("127.0.0.1:0");
  tako.Server.builder().proxyProtocol("required").build().spawnHttp(listener, router);
  console.log(`PORT ${listener.localAddr().port}`);
}
