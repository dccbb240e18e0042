// Raw node:http with hand-written dispatch (_raw-node.mjs): what a careful user writes without a
// framework.
import { createServer } from "node:http";
import { dispatch, listen } from "./_raw-node.mjs";

function send(res, status, type, body) {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

listen(createServer((req, res) => dispatch(req, res, req.method, req.url ?? "/", send)));
