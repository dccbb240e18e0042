// The hand-written dispatch the raw node:http and node:http2 baselines share: what a careful user
// writes without a framework (path without `new URL`, JSON.stringify, content types, 1 MiB cap).
// Each server passes its own `send(res, status, type, body)`; `req` is the readable request body
// (an IncomingMessage for node:http, the Http2Stream itself for node:http2).
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

/** Answers one request; `url` is the request target (path and query). */
export function dispatch(req, res, method, url, send) {
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

/** Listens on 127.0.0.1:$PORT (0: any free port) and prints "READY <port>". */
export function listen(server) {
  server.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? "0") }, () => {
    const addr = server.address();
    console.log(`READY ${typeof addr === "object" && addr !== null ? addr.port : 0}`);
  });
}
