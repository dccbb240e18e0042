// tako's spawnH3 answering GET / "Hello, World!" on 127.0.0.1:0 with its defaults. Prints "READY <port>".
import { Router, Server, TlsCert } from "../../src/index.ts";
import { testCerts } from "../../test/_shared/certs.ts";

const certs = testCerts();
const router = new Router();
router.get("/", () => "Hello, World!");
const handle = await Server.builder().tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key)).build().spawnH3("127.0.0.1:0", router);
console.log(`READY ${handle.localAddr().port}`);
