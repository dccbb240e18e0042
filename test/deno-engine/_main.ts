// Deno engine fixture: a small app over spawnHttp / spawnH2c / spawnTls with TAKO_CONFIG (JSON,
// partial ServerConfig). TAKO_PROTO: http1 (default) | h2c | h2c-h1 | tls. TAKO_SELF=N: right
// after spawn, before anything else, the fixture itself opens N connections to its port and
// prints "SELF <connected> <failures>" (the refused window, measured from inside the process).
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { Router, Server, TcpListener, TlsCert } from "../../src/index.ts";
import { runFixture } from "../_shared/fixture-main.ts";
import { testCerts } from "../_shared/certs.ts";

const router = new Router({ bodyLimit: 32 * 1024 * 1024 });
router.onError(() => {});
router.get("/", () => "ok");
router.get("/async", async () => {
  await new Promise((r) => setTimeout(r, 1));
  return "async ok";
});
router.post("/post", async (req) => `got ${(await req.text()).length}`);
router.get("/close", () => new Response("bye", { headers: { connection: "close" } }));
router.get("/hang", () => new Promise<string>(() => {}));
/** 8 MiB, each byte its offset mod 251: a client that reads slowly sees every byte, in order. */
const BIG = Uint8Array.from({ length: 8 * 1024 * 1024 }, (_, i) => i % 251);
router.get("/big", () => BIG);
router.post("/sum", async (req) => {
  let sum = 0;
  let n = 0;
  for await (const chunk of req.body!) {
    for (const b of chunk) sum = (sum + b) % 1_000_003;
    n += chunk.length;
  }
  return `${n} ${sum}`;
});
router.get("/n/{i}", (req) => req.params.i);

const env = process.env;
const proto = env.TAKO_PROTO ?? "http1";
const config = JSON.parse(env.TAKO_CONFIG ?? "{}");
const tls = proto === "tls" || proto === "tls-resolver";
const certs = tls ? testCerts() : null;
let builder = Server.builder().config(config);
if (certs !== null) {
  const cert = TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key);
  // "tls-resolver": the certificate from an async resolver (Deno's node:tls over Deno.listen).
  builder = builder.tls(proto === "tls" ? cert : TlsCert.resolver(async () => cert));
}
const server = builder.build();
const listener = await TcpListener.bind("127.0.0.1:0");
const port = listener.localAddr().port;

// Each connection must get an answer from the server: an HTTP/1.1 response, the server's
// SETTINGS frame (h2c), or a completed handshake (TLS).
const one = (): Promise<boolean> =>
  new Promise((resolve) => {
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    const socket = tls
      ? tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ca: certs!.read(certs!.ca.cert) }, () => done(true))
      : netConnect({ host: "127.0.0.1", port }, () =>
          socket.write(proto === "h2c" ? "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00" : "GET / HTTP/1.1\r\nHost: t\r\n\r\n"),
        );
    socket.on("data", (d: Buffer) => (proto === "h2c" ? d.length >= 9 && d[3] === 4 : d.toString("latin1").startsWith("HTTP/1.1 200")) && done(true));
    socket.on("error", () => done(false));
    socket.on("close", () => done(false));
  });

// TAKO_EARLY: connections opened (and their first bytes sent) between bind and spawn, queued in
// the kernel's backlog until the server accepts.
const early = Array.from({ length: Number(env.TAKO_EARLY ?? "0") }, one);
if (early.length > 0) await new Promise((r) => setTimeout(r, 200));

const handle = tls ? server.spawnTls(listener, router) : proto === "http1" ? server.spawnHttp(listener, router) : server.spawnH2c(listener, router, { http1: proto === "h2c-h1" });

if (early.length > 0) {
  const results = await Promise.all(early);
  const ok = results.filter(Boolean).length;
  console.log(`EARLY ${ok} ${early.length - ok}`);
}
const self = Number(env.TAKO_SELF ?? "0");
if (self > 0) {
  const results = await Promise.all(Array.from({ length: self }, one));
  const ok = results.filter(Boolean).length;
  console.log(`SELF ${ok} ${self - ok}`);
}
await runFixture(handle);
