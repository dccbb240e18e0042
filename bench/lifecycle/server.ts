// Lifecycle bench server: tako (spawnHttp, config from TAKO_CONFIG) or raw node:http (RAW=1).
// Prints "READY <port>"; GET /rss answers the process RSS in bytes; SIGTERM drains and prints
// "STOPPED <ms>" (signal to last connection closed), then exits.
import { createServer } from "node:http";
import { Router, Server, shutdownOnSignals, TcpListener } from "../../src/index.ts";

const rss = (): string => String(process.memoryUsage().rss);
/** Requests that reached a handler: every one must reach the client as a response. */
let handled = 0;

if (process.env.RAW === "1") {
  const server = createServer((req, res) => {
    if (req.url === "/rss") return void res.end(rss());
    handled++;
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("Hello, World!");
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    console.log(`READY ${typeof address === "object" && address !== null ? address.port : 0}`);
  });
  process.once("SIGTERM", () => {
    const t0 = Date.now();
    server.close(() => {
      console.log(`STOPPED ${Date.now() - t0} ${handled}`);
      process.exit(0);
    });
    server.closeIdleConnections();
  });
} else {
  const router = new Router();
  router.get("/", () => (handled++, "Hello, World!"));
  router.get("/rss", rss);
  const listener = await TcpListener.bind("127.0.0.1:0");
  const handle = Server.builder()
    .config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"))
    .build()
    .spawnHttp(listener, router);
  await handle.ready();
  let t0 = 0;
  process.once("SIGTERM", () => (t0 = Date.now()));
  await shutdownOnSignals(handle);
  console.log(`READY ${handle.localAddr().port}`);
  await handle.join();
  console.log(`STOPPED ${Date.now() - t0} ${handled}`);
  process.exit(0);
}
