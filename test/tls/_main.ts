// TLS fixture: the conformance app over spawnTls. TAKO_TLS picks the material:
//   pem (default) | der | memory | sni | reload | watch
// TAKO_CLIENT_AUTH: "" | optional | required. TAKO_HTTP2=0 switches HTTP/2 off. TAKO_CONFIG: JSON
// config. TAKO_WATCH_DIR: the folder `watch` reads cert.pem/key.pem from. Prints "READY <port>";
// SIGTERM drains it ("STOPPED <ms>").
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ClientAuth, ReloadableResolver, Server, SniResolver, TcpListener, TlsCert } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { fixtureApp } from "../contract/_app.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const certs = testCerts();
const env = process.env;
const pemPaths = (f: { cert: string; key: string }): TlsCert => TlsCert.pemPaths(f.cert, f.key);
const derOf = (pem: string): Uint8Array => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64"));

let reloadable: ReloadableResolver | null = null;
let cert: TlsCert;
switch (env.TAKO_TLS ?? "pem") {
  case "der":
    // The chain as DER (leaf, then the CA) and the SEC1 EC key as DER: nothing read as PEM by tako.
    cert = TlsCert.der([derOf(certs.read(certs.localhost.cert)), derOf(certs.read(certs.ca.cert))], derOf(readFileSync(certs.localhost.key, "utf8")));
    break;
  case "memory":
    cert = TlsCert.pem(certs.read(certs.localhost.cert), certs.read(certs.localhost.key));
    break;
  case "sni":
    cert = TlsCert.resolver(
      new SniResolver().add("a.test", pemPaths(certs.a)).add("B.Test", pemPaths(certs.b)).add("*.w.test", pemPaths(certs.wild)).setDefault(pemPaths(certs.localhost)),
    );
    break;
  case "fn":
    // A resolver of one's own: an async function of the SNI name.
    cert = TlsCert.resolver(async (name) => (name === "a.test" ? pemPaths(certs.a) : pemPaths(certs.localhost)));
    break;
  case "reload":
    reloadable = new ReloadableResolver(pemPaths(certs.localhost));
    cert = TlsCert.resolver(reloadable);
    break;
  case "watch": {
    const dir = env.TAKO_WATCH_DIR!;
    reloadable = new ReloadableResolver(TlsCert.pemPaths(join(dir, "cert.pem"), join(dir, "key.pem")));
    reloadable.watch(join(dir, "cert.pem"), join(dir, "key.pem"), {
      intervalMs: 100,
      onReload: () => console.log("RELOADED"),
      onError: (e) => console.log(`RELOAD FAILED ${(e as Error).message}`),
    });
    cert = TlsCert.resolver(reloadable);
    break;
  }
  default:
    cert = pemPaths(certs.localhost);
}
const auth = env.TAKO_CLIENT_AUTH;
if (auth === "optional") cert = cert.withClientAuth(ClientAuth.optional(certs.read(certs.ca.cert)));
if (auth === "required") cert = cert.withClientAuth(ClientAuth.required(certs.read(certs.ca.cert)));

const router = fixtureApp();
let turn = 0;
// Swaps the reloadable certificate between the two localhost certificates; a bad reload must throw.
router.post("/tls/reload", () => {
  if (reloadable === null) return { reloaded: false };
  turn++;
  reloadable.reload(pemPaths(turn % 2 === 1 ? certs.localhost2 : certs.localhost));
  return { reloaded: true, serial: turn % 2 === 1 ? "localhost2" : "localhost" };
});
router.post("/tls/reload-bad", () => {
  try {
    reloadable!.reload(TlsCert.pemPaths(certs.a.cert, certs.b.key));
    return { threw: false };
  } catch (error) {
    return { threw: true, message: (error as Error).message };
  }
});

const listener = await TcpListener.bind("127.0.0.1:0");
const builder = Server.builder()
  .config(JSON.parse(env.TAKO_CONFIG ?? "{}"))
  .tls(cert);
if (env.TAKO_HTTP2 === "0") builder.http2(false);
const handle = builder.build().spawnTls(listener, router);
await runFixture(handle);
