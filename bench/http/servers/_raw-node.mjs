// The hand-written dispatch the raw node:http, node:https and node:http2 baselines share: what a
// careful user writes without a framework (path without `new URL`, JSON.stringify, content types,
// 1 MiB cap). `onRequest` answers node:http(s) requests, `onStreams` node:http2 streams (cleartext
// or TLS) through the stream API, with no compatibility-layer req/res objects.
const HELLO = "Hello, World!";
const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json";
const MAX_BODY = 1024 * 1024;

/** POST /echo: buffers the body (1 MiB cap), answers it back re-serialised. */
function echo(req, res, send) {
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      send(res, 413, TEXT, "Payload Too Large");
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    let value;
    try {
      value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return send(res, 400, TEXT, "Bad Request");
    }
    send(res, 200, JSON_TYPE, JSON.stringify(value));
  });
}

/**
 * Answers one request; `url` is the request target (path and query), `send(res, status, type,
 * body)` writes the answer, `req` is the readable request body (an IncomingMessage, or the
 * Http2Stream itself).
 */
function dispatch(req, res, method, url, send) {
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);

  if (path === "/") {
    if (method === "GET" || method === "HEAD") return send(res, 200, TEXT, HELLO);
    return send(res, 405, TEXT, "Method Not Allowed");
  }
  if (path.startsWith("/users/")) {
    const raw = path.slice(7);
    if (raw !== "" && !raw.includes("/")) {
      if (method !== "GET" && method !== "HEAD") return send(res, 405, TEXT, "Method Not Allowed");
      let id;
      try {
        id = decodeURIComponent(raw);
      } catch {
        return send(res, 400, TEXT, "Bad Request");
      }
      return send(res, 200, JSON_TYPE, JSON.stringify({ id }));
    }
  }
  if (path === "/echo") {
    if (method !== "POST") return send(res, 405, TEXT, "Method Not Allowed");
    return echo(req, res, send);
  }
  send(res, 404, TEXT, "Not Found");
}

/** node:http and node:https request listener. */
export function onRequest(req, res) {
  dispatch(req, res, req.method, req.url ?? "/", sendResponse);
}

function sendResponse(res, status, type, body) {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Answers every stream of a node:http2 server (stream API); returns the server. */
export function onStreams(server) {
  server.on("stream", (stream, headers) => {
    stream.on("error", ignore);
    dispatch(stream, stream, headers[":method"], headers[":path"] ?? "/", sendStream);
  });
  return server;
}

function sendStream(stream, status, type, body) {
  // A stream the client reset cannot be answered any more.
  if (stream.destroyed) return;
  stream.respond({ ":status": status, "content-type": type, "content-length": Buffer.byteLength(body) });
  stream.end(body);
}

// A reset stream emits "error"; without a listener that would take the process down.
const ignore = () => {};

/** Listens on 127.0.0.1:$PORT (0: any free port) and prints "READY <port>". */
export function listen(server) {
  server.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? "0") }, () => {
    const addr = server.address();
    console.log(`READY ${typeof addr === "object" && addr !== null ? addr.port : 0}`);
  });
}
