// tako behind an L4 load balancer that speaks the PROXY protocol (HAProxy, AWS NLB, …):
// handlers see the real client address; a client cannot spoof it with X-Forwarded-For.
//
//   ADDR=127.0.0.1:8080 npm exec tsx examples/proxy-protocol/main.ts
//   FRONT_PORT=8000 BACKEND_PORT=8080 haproxy -db -f examples/proxy-protocol/haproxy.cfg
//   curl -H 'X-Forwarded-For: 6.6.6.6' http://127.0.0.1:8000/whoami
//
// "required": every connection must open with a PROXY header, so only the balancer can talk to
// this port — keep it unreachable from anywhere else (a client that could connect directly
// could send a header of its own and claim any address).
import { Router, Server, shutdownOnSignals, TcpListener } from "../../src/index.ts";

const router = new Router();
router.get("/whoami", (req) => ({
  client: `${req.conn.remoteAddress}:${req.conn.remotePort}`,
  forwarded: req.header("forwarded"),
  xForwardedFor: req.header("x-forwarded-for"),
  via: req.conn.proxy === null ? null : { version: req.conn.proxy.version, crc32cVerified: req.conn.proxy.crc32cVerified ?? null },
}));
// HAProxy's health checks come with the LOCAL command: served with the balancer's own address.
router.get("/healthz", () => "ok");

const server = Server.builder().config({ proxyReadTimeout: 5_000 }).proxyProtocol("required").build();
const listener = await TcpListener.bind(process.env.ADDR ?? "127.0.0.1:8080");
const handle = server.spawnHttp(listener, router);
await shutdownOnSignals(handle);
await handle.ready();
const { address, port } = handle.localAddr();
console.log(`proxy-protocol example: listening on http://${address}:${port} (PROXY protocol required)`);
await handle.join();
