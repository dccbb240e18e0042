// One WebSocket echo server for the bench, chosen by BENCH_WS: "tako" (router.ws on spawnHttp),
// "ws-node-http" (the ws package on the runtime's node:http, what tako runs on), "native"
// (Bun.serve's websocket on Bun, Deno.serve + Deno.upgradeWebSocket on Deno). Every server
// answers GET /rss with its resident set size. Prints "READY <port>".
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { Router, Server, TcpListener } from "../../src/index.ts";

const kind = process.env.BENCH_WS ?? "tako";
const rss = (): string => String(process.memoryUsage().rss);
type Native = {
  Bun?: { serve(o: unknown): { port: number } };
  Deno?: {
    serve(o: unknown, h: (r: Request) => Response): { addr: { port: number } };
    upgradeWebSocket(r: Request): { socket: { onmessage: ((e: { data: unknown }) => void) | null; send(d: unknown): void }; response: Response };
  };
};
const g = globalThis as unknown as Native;

if (kind === "tako") {
  const router = new Router();
  router.ws("/echo", { message: (ws, data) => void ws.send(data) }, { idleTimeout: null });
  router.get("/rss", rss);
  const handle = Server.builder()
    .config({ maxConnections: 20_000 })
    .build()
    .spawnHttp(await TcpListener.bind("127.0.0.1:0"), router);
  await handle.ready();
  console.log(`READY ${handle.localAddr().port}`);
} else if (kind === "ws-node-http") {
  const wss = new WebSocketServer({ noServer: true, clientTracking: false });
  const http = createServer((_req, res) => res.end(rss()));
  http.on("upgrade", (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.on("message", (d, binary) => ws.send(d, { binary }))));
  http.listen(0, "127.0.0.1", () => console.log(`READY ${(http.address() as { port: number }).port}`));
} else if (g.Bun !== undefined) {
  const server = g.Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req: Request, srv: { upgrade(r: Request): boolean }) =>
      new URL(req.url).pathname === "/rss" ? new Response(rss()) : srv.upgrade(req) ? undefined : new Response("no", { status: 400 }),
    websocket: { message: (ws: { send(d: unknown): void }, d: unknown) => ws.send(d) },
  });
  console.log(`READY ${server.port}`);
} else if (g.Deno !== undefined) {
  const deno = g.Deno;
  const server = deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (new URL(req.url).pathname === "/rss") return new Response(rss());
    const { socket, response } = deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  });
  console.log(`READY ${server.addr.port}`);
} else throw new Error("BENCH_WS=native needs Bun or Deno (Node's native baseline is ws-node-http)");
