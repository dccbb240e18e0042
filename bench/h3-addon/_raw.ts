// The addon's raw stream API answering GET / "Hello, World!" (the baseline), on 127.0.0.1:0 with
// tako's defaults (100 bidi streams, no Retry). Prints "READY <port>".
import { readFileSync } from "node:fs";
import { createSecureServer } from "@currentspace/http3";
import { testCerts } from "../../test/_shared/certs.ts";

const certs = testCerts();
const server = createSecureServer(
  { key: readFileSync(certs.localhost.key), cert: readFileSync(certs.localhost.cert), initialMaxStreamsBidi: 100, disableRetry: true },
  (stream, headers) => {
    if (headers[":path"] === "/") stream.respondWithBody({ ":status": "200", "content-type": "text/plain; charset=utf-8", "content-length": "13" }, "Hello, World!");
    else stream.respondWithBody({ ":status": "404", "content-length": "0" }, "");
  },
);
server.on("listening", () => console.log(`READY ${server.address()!.port}`));
server.listen(0, "127.0.0.1");
