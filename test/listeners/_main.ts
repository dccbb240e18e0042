// Listener fixture: serves a small app on the listener kind in TAKO_LISTEN:
//   unix:<path>[:<mode octal>]  UnixListener.bind(path, { mode })
//   fd:<n>                      TcpListener.fromFd(n)
//   systemd                     systemdListeners()[0]
//   tcp-reuse:<host:port>       TcpListener.bind(addr, { reusePort: true })
// over TAKO_TRANSPORT (http | h2c | h2c+http1 | tls | tls-resolver: the certificate from a resolver) with TAKO_PROXY (off | required | optional)
// and TAKO_CONFIG. Prints "ADDR <localAddr JSON>", then "READY 0"; a bind error prints
// "BIND_ERROR <code> <message>" and exits 3. SIGTERM drains it; it then prints "STOPPED <ms>".
import { Server, systemdListeners, TakoError, TcpListener, TlsCert, UnixListener, type ProxyMode, Router } from "../../src/index.ts";
import type { Listener } from "../../src/server/listener.ts";
import { testCerts } from "../_shared/certs.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const env = process.env;
const router = new Router();
router.get("/", () => "ok");
router.get("/pid", () => String(process.pid));
router.get("/conn", (req) => ({
  remoteAddress: req.conn.remoteAddress,
  remotePort: req.conn.remotePort,
  localAddress: req.conn.localAddress,
  localPort: req.conn.localPort,
  family: req.conn.family,
  httpVersion: req.conn.httpVersion,
  tls: req.conn.tls === null ? null : { alpnProtocol: req.conn.tls.alpnProtocol },
  proxy: req.conn.proxy === null ? null : { version: req.conn.proxy.version, command: req.conn.proxy.command, family: req.conn.proxy.family },
}));
// Only with TAKO_WS=1: Deno serves a router with WebSocket routes on its node:http listening itself.
if (env.TAKO_WS === "1") {
  router.ws("/ws", {
    message(ws, data) {
      ws.send(`${typeof data === "string" ? data : "bytes"} via ${ws.req.conn.family} ${ws.req.conn.localAddress}`);
    },
  });
}
router.get("/slow", async () => {
  await new Promise((r) => setTimeout(r, 300));
  return "slow done";
});

async function bind(spec: string): Promise<Listener> {
  if (spec.startsWith("unix:")) {
    const [path, mode] = spec.slice(5).split(":") as [string, string | undefined];
    return UnixListener.bind(path, mode === undefined ? {} : { mode: Number.parseInt(mode, 8) });
  }
  if (spec.startsWith("fd:")) return TcpListener.fromFd(Number(spec.slice(3)));
  if (spec === "systemd") {
    const got = await systemdListeners();
    console.log(
      `SYSTEMD ${JSON.stringify(got.map((l) => ({ name: l.name, fd: l.fd, family: l.listener.localAddr().family })))} ${env.LISTEN_FDS === undefined ? "unset" : "kept"}`,
    );
    if (got.length === 0) throw new Error("no systemd listeners");
    return got[0]!.listener;
  }
  if (spec.startsWith("tcp-reuse:")) return TcpListener.bind(spec.slice(10), { reusePort: true });
  throw new Error(`bad TAKO_LISTEN ${spec}`);
}

let listener: Listener;
try {
  listener = await bind(env.TAKO_LISTEN ?? "");
} catch (error) {
  console.log(`BIND_ERROR ${error instanceof TakoError ? error.code : "other"} ${(error as Error).message}`);
  process.exit(3);
}
console.log(`ADDR ${JSON.stringify(listener.localAddr())}`);
const transport = env.TAKO_TRANSPORT ?? "http";
const builder = Server.builder()
  .config(JSON.parse(env.TAKO_CONFIG ?? "{}"))
  .proxyProtocol((env.TAKO_PROXY ?? "off") as ProxyMode);
if (transport === "tls" || transport === "tls-resolver") {
  const certs = testCerts();
  const cert = TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key);
  builder.tls(transport === "tls" ? cert : TlsCert.resolver(async () => cert));
}
const server = builder.build();
const handle =
  transport === "h2c" || transport === "h2c+http1"
    ? server.spawnH2c(listener, router, { http1: transport === "h2c+http1" })
    : transport === "tls" || transport === "tls-resolver"
      ? server.spawnTls(listener, router)
      : server.spawnHttp(listener, router);
await runFixture(handle);
