// HTTPS with every TlsCert form. MODE picks one (default `pem`):
//   pem     TlsCert.pemPaths(cert, key) — files read and checked when the server is built
//   der     TlsCert.der([leaf, ca], key) — material in memory, never on disk
//   sni     TlsCert.resolver(new SniResolver()…) — a certificate per SNI name, with a default
//   reload  TlsCert.resolver(new ReloadableResolver(…)) + watch(): replace the files, no restart
//   mtls    .withClientAuth(ClientAuth.required(ca)) — handlers see the client certificate
//
//   MODE=mtls ADDR=127.0.0.1:8443 npm exec tsx examples/tls/main.ts
//
// It uses the demo's development certificate (made with openssl on first run).
import { readFileSync } from "node:fs";
import { ClientAuth, ReloadableResolver, Router, Server, shutdownOnSignals, SniResolver, TcpListener, TlsCert } from "../../src/index.ts";
import { devCert } from "../demo/dev-cert.ts";

const dev = devCert();
const pemToDer = (path: string): Uint8Array[] =>
  (readFileSync(path, "utf8").match(/-----BEGIN [^-]+-----[\s\S]+?-----END [^-]+-----/g) ?? []).map(
    (block) => new Uint8Array(Buffer.from(block.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64")),
  );

const mode = process.env.MODE ?? "pem";
let cert: TlsCert;
if (mode === "der") cert = TlsCert.der([...pemToDer(dev.cert), ...pemToDer(dev.ca)], pemToDer(dev.key)[0]!);
else if (mode === "sni") {
  // One table: exact names, a wildcard, and a default for unknown names and clients without SNI.
  cert = TlsCert.resolver(new SniResolver().add("localhost", TlsCert.pemPaths(dev.cert, dev.key)).setDefault(TlsCert.pemPaths(dev.cert, dev.key)));
} else if (mode === "reload") {
  const resolver = new ReloadableResolver(TlsCert.pemPaths(dev.cert, dev.key));
  resolver.watch(dev.cert, dev.key, { onReload: () => console.log("certificate reloaded") });
  cert = TlsCert.resolver(resolver);
} else cert = TlsCert.pemPaths(dev.cert, dev.key);
if (mode === "mtls") cert = cert.withClientAuth(ClientAuth.required(readFileSync(dev.ca, "utf8")));

const router = new Router();
router.get("/", (req) => ({
  hello: "over TLS",
  httpVersion: req.conn.httpVersion,
  alpn: req.conn.tls?.alpnProtocol ?? null,
  sni: req.conn.tls?.serverName ?? null,
  tls: req.conn.tls?.protocol ?? null,
  cipher: req.conn.tls?.cipher ?? null,
  client: req.conn.tls?.peerCertificate?.subject ?? null,
}));

const server = Server.builder().config({ tlsHandshakeTimeout: 5_000 }).tls(cert).build();
const listener = await TcpListener.bind(process.env.ADDR ?? "127.0.0.1:8443");
const handle = server.spawnTls(listener, router);
await shutdownOnSignals(handle);
await handle.ready();
const { address, port } = handle.localAddr();
console.log(`tls example (${mode}): listening on https://${address}:${port}`);
console.log(`  curl --cacert ${dev.ca} https://localhost:${port}/ --resolve localhost:${port}:${address}`);
await handle.join();
