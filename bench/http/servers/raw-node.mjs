// Raw node:http with hand-written dispatch: what a careful user writes without a framework.
import { createServer } from "node:http";

const HELLO = "Hello, World!";
const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json";

function send(res, status, type, body) {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const method = req.method;

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
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > 1024 * 1024) {
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
    return;
  }
  send(res, 404, TEXT, "Not Found");
});

server.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? "0") }, () => {
  const addr = server.address();
  console.log(`READY ${typeof addr === "object" && addr !== null ? addr.port : 0}`);
});
