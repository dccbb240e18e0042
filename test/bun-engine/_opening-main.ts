// Fixture of test/bun-engine/opening.test.ts: what a connection opens with on Bun's Bun.listen
// path. TAKO_OPENING: "tls" (spawnTls, HTTP/2 off, the localhost certificate), "tls-sni" (a.test
// by SNI, else a reloadable localhost certificate: POST /reload swaps in localhost2), "tls-async"
// (a resolver answering after 20 ms: a.test, none.test refused, else localhost), "proxy-tls",
// "proxy-tls-async" and "proxy-tls-optional" (PROXY required / optional, then "tls"), "proxy"
// (spawnHttp, PROXY header required) or "proxy-optional". TAKO_CLIENT_AUTH: "" | optional |
// required. TAKO_CONFIG: JSON config. TAKO_EARLY=1: binds, prints "BOUND <port>", and spawns only
// 500 ms later (connections made meanwhile must wait and be served). Routes: /conn (req.conn as
// JSON), /fwd (the forwarding headers a handler reads), /big/{mib} (a streamed body of that many
// MiB), /count (POST: the body's length). Every tako:connection:refused event is
// printed as "REFUSED <reason> <error>". Prints "READY <port>".
import dc from "node:diagnostics_channel";
import { CHANNELS, ClientAuth, ReloadableResolver, Router, Server, TcpListener, TlsCert } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { runFixture } from "../_shared/fixture-main.ts";

dc.subscribe(CHANNELS.connectionRefused, (raw) => {
  const m = raw as { reason: string; error?: unknown };
  console.log(`REFUSED ${m.reason} ${m.error instanceof Error ? m.error.message : String(m.error)}`);
});

const router = new Router();
router.get("/conn", (req) => {
  const c = req.conn;
  const peer = c.tls?.peerCertificate ?? null;
  return {
    ...c,
    tls: c.tls === null ? null : { ...c.tls, peerCertificate: peer === null ? null : { ...peer, raw: peer.raw.length } },
    proxy: c.proxy === null ? null : { ...c.proxy, tlvs: c.proxy.tlvs.map((t) => ({ type: t.type, length: t.value.length })), uniqueId: c.proxy.uniqueId?.length ?? null },
  };
});
router.get("/big/{mib}", (req) => {
  let left = Number(req.params.mib) * 16;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left-- === 0) return controller.close();
      controller.enqueue(new Uint8Array(64 * 1024).fill(97));
    },
  });
});
router.post("/count", async (req) => {
  req.bodyLimit = 64 * 1024 * 1024;
  return String((await req.bytes()).length);
});
router.get("/fwd", (req) => ({ forwarded: req.header("forwarded"), xff: req.header("x-forwarded-for"), headers: [...req.headers].filter(([n]) => n.includes("forward")) }));

const env = process.env;
const opening = env.TAKO_OPENING ?? "tls";
const listener = await TcpListener.bind("127.0.0.1:0");
if (env.TAKO_EARLY === "1") {
  console.log(`BOUND ${listener.localAddr().port}`);
  await new Promise((r) => setTimeout(r, 500));
}
const builder = Server.builder().config(JSON.parse(env.TAKO_CONFIG ?? "{}"));
if (opening.startsWith("tls") || opening.startsWith("proxy-tls")) {
  const certs = testCerts();
  const pem = (f: { cert: string; key: string }): TlsCert => TlsCert.pemPaths(f.cert, f.key);
  const cert0 = pem(certs.localhost);
  let cert = cert0;
  if (opening === "tls-sni") {
    // A.test by SNI; a reloadable default (POST /reload swaps it for localhost2).
    const fallback = new ReloadableResolver(pem(certs.localhost));
    const a = pem(certs.a);
    cert = TlsCert.resolver((name) => (name?.toLowerCase() === "a.test" ? a : fallback.resolve()));
    router.post("/reload", () => {
      fallback.reload(pem(certs.localhost2));
      return "reloaded";
    });
  }
  if (opening.endsWith("tls-async")) {
    // A resolver that answers later: a.test by SNI, none.test refused, anything else (no SNI
    // included) localhost.
    const a = pem(certs.a);
    const later = <T>(value: () => T): Promise<T> => new Promise<void>((r) => setTimeout(r, 20)).then(value);
    cert = TlsCert.resolver((name) =>
      later(() => {
        if (name === "none.test") throw new Error("no certificate for none.test");
        return name === "a.test" ? a : cert0;
      }),
    );
  }
  if (env.TAKO_CLIENT_AUTH === "optional") cert = cert.withClientAuth(ClientAuth.optional(certs.read(certs.ca.cert)));
  if (env.TAKO_CLIENT_AUTH === "required") cert = cert.withClientAuth(ClientAuth.required(certs.read(certs.ca.cert)));
  if (opening.startsWith("proxy-tls")) builder.proxyProtocol(opening === "proxy-tls-optional" ? "optional" : "required");
  await runFixture(builder.tls(cert).http2(false).build().spawnTls(listener, router));
} else {
  await runFixture(
    builder
      .proxyProtocol(opening === "proxy" ? "required" : "optional")
      .build()
      .spawnHttp(listener, router),
  );
}
