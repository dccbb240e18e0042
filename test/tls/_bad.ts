// Builds a TLS server from bad material (TAKO_BAD picks which) and lets the error end the process:
// the suite checks the message names the file. Prints READY only if, wrongly, it got that far.
import { Server, TcpListener, TlsCert, Router } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";

const certs = testCerts();
const bad = process.env.TAKO_BAD;
const builder = Server.builder();
if (bad === "missing") builder.tls(TlsCert.pemPaths(`${certs.dir}nope.pem`, certs.localhost.key));
if (bad === "garbage") builder.tls(TlsCert.pemPaths(certs.localhost.key, certs.localhost.key));
if (bad === "mismatch") builder.tls(TlsCert.pemPaths(certs.a.cert, certs.b.key));
if (bad === "badder") builder.tls(TlsCert.der([new Uint8Array([1, 2, 3])], new Uint8Array([4, 5, 6])));
const server = builder.build();
const listener = await TcpListener.bind("127.0.0.1:0");
server.spawnTls(listener, new Router());
console.log(`READY ${listener.localAddr().port}`);
