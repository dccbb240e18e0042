// Speed probe of tako's HTTP/2 codec (src/core/http2/) against the runtime's own HTTP/2
// servers, GET / "Hello, World!" over h2c. Modes (argv[2]):
//   codec  the codec on raw TCP sockets (Bun.listen on Bun, node:net on Node)
//   serve  Bun.serve({ http2: true }) (Bun only)
//   http2  node:http2 createServer, stream API
// Listens on 127.0.0.1:$PORT (0 = any) and prints "READY <port>". Run by bench/h2-codec/run.sh.
import { createServer as netServer, type Socket } from "node:net";
import { createServer as h2Server } from "node:http2";
import { type H2Handler, H2ServerConnection } from "../../src/core/http2/index.ts";

const mode = process.argv[2] ?? "codec";
// A clean exit on SIGTERM, so that `bun --cpu-prof` writes its profile.
process.on("SIGTERM", () => process.exit(0));
const port = Number(process.env.PORT ?? "0");
/** H2_HUFFMAN=1: Huffman-code response header literals where shorter. */
const huffman = process.env.H2_HUFFMAN === "1";
const HELLO = new TextEncoder().encode("Hello, World!");

// The Date header, refreshed once a second.
let date = new Date().toUTCString();
setInterval(() => (date = new Date().toUTCString()), 1000).unref();
let headers: string[] = [];
let headersDate = "";
function responseHeaders(): string[] {
  if (headersDate !== date) {
    headersDate = date;
    headers = ["content-type", "text/plain;charset=utf-8", "date", date, "content-length", "13"];
  }
  return headers;
}

/** The handler of one connection: `out` writes to the socket (returns false when it is full). */
function handler(out: (bytes: Uint8Array) => boolean, close: () => void, conn: () => H2ServerConnection): H2Handler {
  return {
    write(bytes) {
      if (!out(bytes)) conn().setWritable(false);
    },
    onRequest(id) {
      const c = conn();
      c.respond(id, 200, responseHeaders());
      c.sendData(id, HELLO, true);
    },
    onData(id, bytes) {
      conn().consume(id, bytes.length);
    },
    onEnd() {},
    onReset() {},
    onDrain() {},
    onClose: close,
  };
}

interface BunSocket {
  write(bytes: Uint8Array): number;
  end(): void;
  data: BunConn;
}
interface BunConn {
  codec: H2ServerConnection;
  pending: Uint8Array[];
}
type BunListen = (options: {
  hostname: string;
  port: number;
  socket: {
    open(s: BunSocket): void;
    data(s: BunSocket, chunk: Uint8Array): void;
    drain(s: BunSocket): void;
    close(s: BunSocket): void;
    error(s: BunSocket, e: Error): void;
  };
}) => { port: number };
type BunServe = (options: { hostname: string; port: number; http2: boolean; fetch: () => Response }) => { port: number };
const Bun = (globalThis as unknown as { Bun?: { listen: BunListen; serve: BunServe } }).Bun;

function bunWrite(s: BunSocket, bytes: Uint8Array): boolean {
  const conn = s.data;
  if (conn.pending.length > 0) {
    conn.pending.push(bytes);
    return false;
  }
  const n = s.write(bytes);
  if (n === bytes.length) return true;
  conn.pending.push(n <= 0 ? bytes : bytes.subarray(n));
  return false;
}

function ready(p: number): void {
  console.log(`READY ${p}`);
}

if (mode === "codec" && Bun !== undefined) {
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port,
    socket: {
      open(s) {
        const conn: BunConn = { codec: null as unknown as H2ServerConnection, pending: [] };
        s.data = conn;
        conn.codec = new H2ServerConnection(
          handler(
            (b) => bunWrite(s, b),
            () => s.end(),
            () => conn.codec,
          ),
          { huffman },
        );
        conn.codec.start();
      },
      data(s, chunk) {
        s.data.codec.receive(chunk);
      },
      drain(s) {
        const conn = s.data;
        while (conn.pending.length > 0) {
          const b = conn.pending[0]!;
          const n = s.write(b);
          if (n < b.length) {
            if (n > 0) conn.pending[0] = b.subarray(n);
            return;
          }
          conn.pending.shift();
        }
        conn.codec.setWritable(true);
      },
      close() {},
      error() {},
    },
  });
  ready(server.port);
} else if (mode === "codec") {
  const server = netServer((socket: Socket) => {
    socket.setNoDelay(true);
    const codec: H2ServerConnection = new H2ServerConnection(
      handler(
        (b) => socket.write(b),
        () => socket.end(),
        () => codec,
      ),
      { huffman },
    );
    socket.on("data", (chunk: Uint8Array) => codec.receive(chunk));
    socket.on("drain", () => codec.setWritable(true));
    socket.on("error", () => {});
    codec.start();
  });
  server.listen(port, "127.0.0.1", () => ready((server.address() as { port: number }).port));
} else if (mode === "serve" && Bun !== undefined) {
  const server = Bun.serve({ hostname: "127.0.0.1", port, http2: true, fetch: () => new Response("Hello, World!") });
  ready(server.port);
} else if (mode === "http2") {
  const server = h2Server();
  server.on("stream", (stream) => {
    stream.respond({ ":status": 200, "content-type": "text/plain;charset=utf-8", "content-length": "13" });
    stream.end("Hello, World!");
  });
  server.on("error", () => {});
  server.listen(port, "127.0.0.1", () => ready((server.address() as { port: number }).port));
} else {
  console.error(`unknown mode ${mode} on this runtime`);
  process.exit(2);
}
