// Raw node:http2 over cleartext (h2c, prior knowledge) with the stream API and the same
// hand-written dispatch as raw-node.mjs (_raw-node.mjs): no compatibility-layer req/res objects.
import { createServer } from "node:http2";
import { listen, onStreams } from "./_raw-node.mjs";

listen(onStreams(createServer()));
