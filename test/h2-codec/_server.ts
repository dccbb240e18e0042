// A test server: tako's HTTP/2 codec attached to the sockets of a node:net server on
// 127.0.0.1 port 0, answering a few routes. Harness only (src/core stays runtime-neutral).
import { createServer, type Server, type Socket } from "node:net";
import { H2Code, type H2ConnectionOptions, type H2Error, H2ServerConnection, type H2RequestHead } from "../../src/core/http2/index.ts";

/** What a test can observe of the server. */
export interface CodecServer {
  port: number;
  server: Server;
  /** Connection errors the codec reported, in order. */
  errors: H2Error[];
  /** Every live connection (for graceful GOAWAY tests). */
  conns: Set<H2ServerConnection>;
  /** Reset codes of streams the application saw end early, over all connections. */
  resets: number[];
  /** Octets of /big queued so far per stream id (the last connection's), for backpressure tests. */
  bigQueued: Map<number, number>;
  /** Octets received (never consumed) on /unread streams. */
  unread: Map<number, number>;
  close(): Promise<void>;
}

const TEXT = ["content-type", "text/plain; charset=utf-8"];
const hello = new TextEncoder().encode("Hello, World!");
export const BIG = new Uint8Array(1024 * 1024).map((_, i) => (i * 7 + 3) & 0xff);

interface StreamCtx {
  head: H2RequestHead;
  /** Echo: octets written back but not yet consumed (waiting for drain). */
  unconsumed: number;
  /** /big: next offset to send. */
  offset: number;
  body: Uint8Array[] | null;
}

function attach(socket: Socket, options: H2ConnectionOptions, state: CodecServer): void {
  socket.setNoDelay(true);
  const streams = new Map<number, StreamCtx>();
  const conn: H2ServerConnection = new H2ServerConnection(
    {
      write(bytes) {
        if (!socket.write(bytes)) conn.setWritable(false);
      },
      onRequest(id, head, endStream) {
        const ctx: StreamCtx = { head, unconsumed: 0, offset: 0, body: null };
        streams.set(id, ctx);
        const path = head.path;
        if (path === "/" || path.startsWith("/users/")) {
          conn.respond(id, 200, [...TEXT, "content-length", String(hello.length)]);
          conn.sendData(id, hello, true);
        } else if (path === "/echo") {
          conn.respond(id, 200, TEXT);
          if (endStream) conn.sendData(id, new Uint8Array(0), true);
        } else if (path === "/big") {
          conn.respond(id, 200, ["content-type", "application/octet-stream", "content-length", String(BIG.length)]);
          pumpBig(id, ctx);
        } else if (path === "/unread") {
          state.unread.set(id, 0);
        } else if (path === "/slow") {
          setTimeout(() => {
            conn.respond(id, 200, TEXT);
            conn.sendData(id, new TextEncoder().encode("slow"), true);
          }, 100);
        } else if (path === "/headers") {
          const fields = head.headers.filter((_, i) => i % 2 === 0);
          conn.respond(id, 200, TEXT);
          conn.sendData(id, new TextEncoder().encode(JSON.stringify({ method: head.method, authority: head.authority, fields })), true);
        } else if (path === "/trailers") {
          conn.respond(id, 200, TEXT);
          conn.sendData(id, new TextEncoder().encode("body"));
          conn.sendTrailers(id, ["x-checksum", "abc"]);
        } else {
          conn.respond(id, 404, TEXT);
          conn.sendData(id, new TextEncoder().encode("not found"), true);
        }
      },
      onData(id, bytes) {
        const ctx = streams.get(id);
        if (ctx === undefined) return;
        if (ctx.head.path === "/echo") {
          const copy = bytes.slice();
          if (conn.sendData(id, copy)) conn.consume(id, copy.length);
          else ctx.unconsumed += copy.length;
        } else if (ctx.head.path === "/unread") state.unread.set(id, (state.unread.get(id) ?? 0) + bytes.length);
        else conn.consume(id, bytes.length);
      },
      onEnd(id) {
        const ctx = streams.get(id);
        if (ctx?.head.path === "/echo") conn.sendData(id, new Uint8Array(0), true);
        if (ctx?.head.path === "/unread" && conn.respond(id, 200, TEXT)) conn.sendData(id, new Uint8Array(0), true);
      },
      onReset(id, code) {
        streams.delete(id);
        if (code !== H2Code.NO_ERROR) state.resets.push(code);
      },
      onDrain(id) {
        const ctx = streams.get(id);
        if (ctx === undefined) return;
        if (ctx.head.path === "/big") pumpBig(id, ctx);
        else if (ctx.unconsumed > 0) {
          conn.consume(id, ctx.unconsumed);
          ctx.unconsumed = 0;
        }
      },
      onClose(error) {
        if (error !== null) state.errors.push(error);
        state.conns.delete(conn);
        socket.end();
      },
    },
    options,
  );
  function pumpBig(id: number, ctx: StreamCtx): void {
    while (ctx.offset < BIG.length) {
      const end = Math.min(BIG.length, ctx.offset + 64 * 1024);
      const more = conn.sendData(id, BIG.subarray(ctx.offset, end), end === BIG.length);
      ctx.offset = end;
      state.bigQueued.set(id, end);
      if (!more) return;
    }
  }
  state.conns.add(conn);
  socket.on("data", (chunk: Uint8Array) => conn.receive(chunk));
  socket.on("drain", () => conn.setWritable(true));
  socket.on("error", () => {});
  socket.on("close", () => {
    state.conns.delete(conn);
    for (const id of streams.keys()) streams.delete(id);
  });
  conn.start();
}

/** Starts the server on 127.0.0.1, port 0. */
export async function startCodecServer(options: H2ConnectionOptions = {}): Promise<CodecServer> {
  const sockets = new Set<Socket>();
  const state: CodecServer = {
    port: 0,
    server: createServer(),
    errors: [],
    conns: new Set(),
    resets: [],
    bigQueued: new Map(),
    unread: new Map(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        state.server.close(() => resolve());
      }),
  };
  state.server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    attach(socket, options, state);
  });
  await new Promise<void>((resolve) => state.server.listen(0, "127.0.0.1", resolve));
  state.port = (state.server.address() as { port: number }).port;
  return state;
}
