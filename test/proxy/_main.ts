// PROXY protocol fixture: the conformance app behind `proxyProtocol(TAKO_PROXY)` over
// TAKO_TRANSPORT (http | h2c | tls), with TAKO_CONFIG. Prints "READY <port>".
import { Server, TcpListener, TlsCert, type ProxyMode } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { fixtureApp } from "../contract/_app.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = fixtureApp();
router.get("/proxy/seen", (req) => ({
  remoteAddress: req.conn.remoteAddress,
  remotePort: req.conn.remotePort,
  httpVersion: req.conn.httpVersion,
  proxy:
    req.conn.proxy === null
      ? null
      : {
          version: req.conn.proxy.version,
          command: req.conn.proxy.command,
          family: req.conn.proxy.family,
          alpn: req.conn.proxy.alpn,
          authority: req.conn.proxy.authority,
          crc32cVerified: req.conn.proxy.crc32cVerified ?? null,
          uniqueId: req.conn.proxy.uniqueId === null ? null : Buffer.from(req.conn.proxy.uniqueId).toString("hex"),
          uniqueIdText: req.conn.proxy.uniqueId === null ? null : Buffer.from(req.conn.proxy.uniqueId).toString("latin1"),
          ssl:
            req.conn.proxy.ssl === null
              ? null
              : {
                  client: req.conn.proxy.ssl.client,
                  verify: req.conn.proxy.ssl.verify,
                  version: req.conn.proxy.ssl.version,
                  cn: req.conn.proxy.ssl.cn,
                  cipher: req.conn.proxy.ssl.cipher,
                  sigAlg: req.conn.proxy.ssl.sigAlg,
                  keyAlg: req.conn.proxy.ssl.keyAlg,
                },
          sourceAddress: req.conn.proxy.sourceAddress,
          destinationPort: req.conn.proxy.destinationPort,
        },
  forwarded: req.header("forwarded"),
  xForwardedFor: req.header("x-forwarded-for"),
  headersForwarded: req.headers.get("forwarded"),
  headersXff: req.headers.get("x-forwarded-for"),
  tls: req.conn.tls === null ? null : { alpnProtocol: req.conn.tls.alpnProtocol },
}));

// HAProxy health checks: what the last check's connection said.
const checks: { command: string | null; count: number } = { command: null, count: 0 };
router.get("/proxy/check", (req) => {
  checks.command = req.conn.proxy?.command ?? null;
  checks.count++;
  return "ok";
});
router.get("/proxy/checks", () => checks);

const env = process.env;
const transport = env.TAKO_TRANSPORT ?? "http";
const certs = testCerts();
const builder = Server.builder()
  .config(JSON.parse(env.TAKO_CONFIG ?? "{}"))
  .proxyProtocol((env.TAKO_PROXY ?? "required") as ProxyMode, { onBadCrc: env.TAKO_BAD_CRC === "flag" ? "flag" : "reject" });
if (transport === "tls") builder.tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key));
const server = builder.build();
const listener = await TcpListener.bind("127.0.0.1:0");
const handle =
  transport === "h2c"
    ? server.spawnH2c(listener, router, { http1: env.TAKO_H2C_HTTP1 === "1" })
    : transport === "tls"
      ? server.spawnTls(listener, router)
      : server.spawnHttp(listener, router);
await runFixture(handle);
