// WebSocket fixture: router.ws routes served with spawnHttp (TAKO_WS=h1), spawnH2c with
// HTTP/1.1 on the same port (h2c), spawnTls with h2 and http/1.1 and optional client
// certificates (tls), or spawnHttp behind the PROXY protocol (proxy). TAKO_WS_CAP sets
// maxConnections, TAKO_WS_DRAIN drainTimeout, TAKO_WS_SHED turns load shedding on. Prints "READY <port>", one "CLOSED <path> <code>"
// line per server-side close, and "STOPPED <ms>" after a drain (SIGTERM).
import { ClientAuth, Router, Server, TcpListener, TlsCert, type WsHandlers } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = new Router();
router.onError(() => {});
const log = (path: string) => (_ws: unknown, code: number) => console.log(`CLOSED ${path} ${code}`);

const echo: WsHandlers = {
  message: (ws, data) => void ws.send(data),
  close: log("/echo"),
};
router.ws("/echo", echo);
router.ws("/small", { ...echo, close: log("/small") }, { maxPayload: 1024 });
router.ws("/deflate", { ...echo, close: log("/deflate") }, { perMessageDeflate: { threshold: 0 } });
router.ws("/proto", { open: (ws) => void ws.send(`protocol=${ws.protocol}`) }, { protocols: ["v2.chat", "v1.chat"] });
router.ws("/origin", { open: (ws) => void ws.send("welcome") }, { allowedOrigins: ["https://good.example"] });
router.ws("/idle", { close: log("/idle") }, { idleTimeout: 300, pongTimeout: 300 });
router.ws("/info/{room}", {
  open(ws) {
    const c = ws.req.conn;
    ws.send(
      JSON.stringify({
        room: ws.req.params.room,
        query: ws.req.query.get("q"),
        remoteAddress: c.remoteAddress,
        remotePort: c.remotePort,
        alpn: c.tls?.alpnProtocol ?? null,
        peer: c.tls?.peerCertificate?.subject ?? null,
        proxy: c.proxy === null ? null : { source: c.proxy.sourceAddress, port: c.proxy.sourcePort },
        extensions: ws.extensions,
      }),
    );
  },
});
// Backpressure: "flood" sends 64 KiB messages until send() says stop, then reports how many;
// the drain handler reports once the buffer is out.
const chunk = "x".repeat(64 * 1024);
router.ws(
  "/flood",
  {
    message(ws, data) {
      if (data !== "flood") return;
      let n = 0;
      while (n < 10_000 && ws.send(chunk)) n++;
      ws.send(`stopped after ${n + 1} buffered=${ws.bufferedAmount}`);
    },
    drain: (ws) => void ws.send("drained"),
  },
  { backpressureLimit: 256 * 1024 },
);
// Throws in message: the connection is closed 1011, the process lives on.
router.ws("/throws", {
  message() {
    throw new Error("handler failure");
  },
  close: log("/throws"),
});
// Authentication before the upgrade: no token, 401 with an ordinary body.
router
  .ws("/private", { open: (ws) => void ws.send("secret") })
  .middleware((req, next) => (req.header("authorization") === "Bearer good" ? next() : new Response("no token", { status: 401 })));
// A slow middleware: an upgrade still in it when the drain begins is answered 503.
router.ws("/slow", echo).middleware(async (_req, next) => {
  await new Promise((r) => setTimeout(r, 500));
  return next();
});
// ws.req.signal aborts when the socket closes.
router.ws("/signal", {
  open(ws) {
    ws.req.signal.addEventListener("abort", () => console.log(`ABORTED /signal ${(ws.req.signal.reason as { code?: string }).code}`));
  },
});
router.get("/plain", () => "plain");

const listener = await TcpListener.bind("127.0.0.1:0");
const mode = process.env.TAKO_WS ?? "h1";
const builder = Server.builder().config({
  maxConnections: process.env.TAKO_WS_CAP === undefined ? null : Number(process.env.TAKO_WS_CAP),
  drainTimeout: process.env.TAKO_WS_DRAIN === undefined ? 30_000 : Number(process.env.TAKO_WS_DRAIN),
  // Short HTTP deadlines: an open WebSocket must outlive them (it is no HTTP connection any more).
  headerReadTimeout: 1000,
  keepAliveTimeout: 1000,
  // Load shedding wraps the router (TAKO_WS_SHED=1): upgrades must still be served.
  maxEventLoopDelay: process.env.TAKO_WS_SHED === undefined ? null : 2000,
});
if (mode === "tls") {
  const certs = testCerts();
  const cert = TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key).withClientAuth(ClientAuth.optional(certs.read(certs.ca.cert)));
  await runFixture(builder.tls(cert).build().spawnTls(listener, router));
} else if (mode === "h2c") await runFixture(builder.build().spawnH2c(listener, router, { http1: true }));
else if (mode === "proxy") await runFixture(builder.proxyProtocol("required").build().spawnHttp(listener, router));
else await runFixture(builder.build().spawnHttp(listener, router));
