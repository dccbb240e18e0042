// Raw node:http2 over TLS (`createSecureServer`, its defaults: ALPN h2 only, the development
// certificate) with the stream API and the same hand-written dispatch as raw-node.mjs.
import { createSecureServer } from "node:http2";
import { listen, onStreams } from "./_raw-node.mjs";
import { pem } from "./_tls.ts";

listen(onStreams(createSecureServer(pem())));
