// Raw node:http2 over cleartext (h2c, prior knowledge) with the stream API and the same
// hand-written dispatch as raw-node.mjs (_raw-node.mjs): no compatibility-layer req/res objects.
import { createServer } from "node:http2";
import { dispatch, listen } from "./_raw-node.mjs";

function send(stream, status, type, body) {
  // A stream the client reset cannot be answered any more.
  if (stream.destroyed) return;
  stream.respond({ ":status": status, "content-type": type, "content-length": Buffer.byteLength(body) });
  stream.end(body);
}

// A reset stream emits "error"; without a listener that would take the process down.
const ignore = () => {};

const server = createServer();
server.on("stream", (stream, headers) => {
  stream.on("error", ignore);
  dispatch(stream, stream, headers[":method"], headers[":path"] ?? "/", send);
});
listen(server);
