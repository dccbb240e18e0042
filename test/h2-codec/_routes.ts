// The test application of tako's HTTP/2 codec, independent of the socket: a host (node:net in
// _server.ts, Bun.listen in _bun-main.ts) gives it a way to write and to close, and feeds it.
// Routes: GET / (text), /users/{id}, POST /echo (the body streamed back), GET /big?tag= (1 MiB;
// /big8 8 MiB; with backpressure), POST /unread?tag= (body never consumed), /slow (answered after 100 ms),
// /headers, /trailers, /state?tag= (what the tagged streams did), /goaway-all (graceful GOAWAY
// on every connection).
import { H2Code, type H2ConnectionOptions, type H2Error, type H2RequestHead, H2ServerConnection } from "../../src/core/http2/index.ts";

/** What the application records, shared by the connections of one server. */
export interface AppState {
  /** Connection errors the codec reported, in order. */
  errors: H2Error[];
  /** Every live connection. */
  conns: Set<H2ServerConnection>;
  /** Octets of /big queued so far, by tag. */
  bigQueued: Map<string, number>;
  /** Octets received (never consumed) on /unread, by tag. */
  unread: Map<string, number>;
}

/** The socket side a host provides. */
export interface HostIo {
  /** Writes bytes; false when the socket's buffer is full (the host calls `setWritable(true)` on drain). */
  write(bytes: Uint8Array): boolean;
  /** Closes the socket after the bytes written. */
  end(): void;
}

export function newState(): AppState {
  return { errors: [], conns: new Set(), bigQueued: new Map(), unread: new Map() };
}

const TEXT = ["content-type", "text/plain; charset=utf-8"];
const enc = new TextEncoder();
const hello = enc.encode("Hello, World!");
/** The body of /big: 1 MiB of a fixed pattern. */
export const BIG = new Uint8Array(1024 * 1024).map((_, i) => (i * 7 + 3) & 0xff);

interface StreamCtx {
  head: H2RequestHead;
  path: string;
  tag: string;
  /** /echo: octets written back but not yet consumed (waiting for drain). */
  unconsumed: number;
  /** /big: next offset to send. */
  offset: number;
  /** /big: octets to send (1 MiB; 8 MiB for /big8). */
  size: number;
}

/** A codec connection answering the routes above over `io`. Call `start()` on it. */
export function codecApp(io: HostIo, options: H2ConnectionOptions, state: AppState): H2ServerConnection {
  const streams = new Map<number, StreamCtx>();
  const conn: H2ServerConnection = new H2ServerConnection(
    {
      write(bytes) {
        if (!io.write(bytes)) conn.setWritable(false);
      },
      onRequest(id, head, endStream) {
        const q = head.path.indexOf("?");
        const path = q < 0 ? head.path : head.path.slice(0, q);
        const tag = q < 0 ? "" : (new URLSearchParams(head.path.slice(q + 1)).get("tag") ?? "");
        const ctx: StreamCtx = { head, path, tag, unconsumed: 0, offset: 0, size: path === "/big8" ? 8 * BIG.length : BIG.length };
        streams.set(id, ctx);
        const text = (status: number, body: string): void => {
          conn.respond(id, status, TEXT);
          conn.sendData(id, enc.encode(body), true);
        };
        if (path === "/" || path.startsWith("/users/")) {
          conn.respond(id, 200, [...TEXT, "content-length", String(hello.length)]);
          conn.sendData(id, hello, true);
        } else if (path === "/echo") {
          conn.respond(id, 200, TEXT);
          if (endStream) conn.sendData(id, new Uint8Array(0), true);
        } else if (path === "/big" || path === "/big8") {
          conn.respond(id, 200, ["content-type", "application/octet-stream", "content-length", String(ctx.size)]);
          pumpBig(id, ctx);
        } else if (path === "/unread") {
          state.unread.set(tag, 0);
        } else if (path === "/slow") {
          setTimeout(() => conn.respond(id, 200, TEXT) && conn.sendData(id, enc.encode("slow"), true), 100);
        } else if (path === "/headers") {
          text(200, JSON.stringify({ method: head.method, authority: head.authority, fields: head.headers.filter((_, i) => i % 2 === 0) }));
        } else if (path === "/trailers") {
          conn.respond(id, 200, TEXT);
          conn.sendData(id, enc.encode("body"));
          conn.sendTrailers(id, ["x-checksum", "abc"]);
        } else if (path === "/state") {
          text(200, JSON.stringify({ bigQueued: state.bigQueued.get(tag) ?? 0, unread: state.unread.get(tag) ?? 0, errors: state.errors.length }));
        } else if (path === "/goaway-all") {
          text(200, "bye");
          for (const c of state.conns) c.goaway();
        } else text(404, "not found");
      },
      onData(id, bytes) {
        const ctx = streams.get(id);
        if (ctx === undefined) return;
        if (ctx.path === "/echo") {
          const copy = bytes.slice();
          if (conn.sendData(id, copy)) conn.consume(id, copy.length);
          else ctx.unconsumed += copy.length;
        } else if (ctx.path === "/unread") state.unread.set(ctx.tag, (state.unread.get(ctx.tag) ?? 0) + bytes.length);
        else conn.consume(id, bytes.length);
      },
      onEnd(id) {
        const ctx = streams.get(id);
        if (ctx?.path === "/echo") conn.sendData(id, new Uint8Array(0), true);
        if (ctx?.path === "/unread" && conn.respond(id, 200, TEXT)) conn.sendData(id, new Uint8Array(0), true);
      },
      onReset(id) {
        streams.delete(id);
      },
      onDrain(id) {
        const ctx = streams.get(id);
        if (ctx === undefined) return;
        if (ctx.path === "/big" || ctx.path === "/big8") pumpBig(id, ctx);
        else if (ctx.unconsumed > 0) {
          conn.consume(id, ctx.unconsumed);
          ctx.unconsumed = 0;
        }
      },
      onClose(error) {
        if (error !== null) state.errors.push(error);
        state.conns.delete(conn);
        io.end();
      },
    },
    options,
  );
  function pumpBig(id: number, ctx: StreamCtx): void {
    while (ctx.offset < ctx.size) {
      const at = ctx.offset % BIG.length;
      const end = ctx.offset + Math.min(64 * 1024, BIG.length - at);
      const more = conn.sendData(id, BIG.subarray(at, at + end - ctx.offset), end === ctx.size);
      ctx.offset = end;
      state.bigQueued.set(ctx.tag, end);
      if (!more) return;
    }
  }
  state.conns.add(conn);
  return conn;
}

/** Calls every connection's `sweep` (the codec's deadlines) every 50 ms, as an engine's sweep would; returns the stopper. */
export function sweepEvery50ms(state: AppState): () => void {
  const timer = setInterval(() => {
    const now = Date.now();
    for (const c of state.conns) c.sweep(now);
  }, 50);
  return () => clearInterval(timer);
}

/** Codec options from the H2_LIMITS environment variable (JSON), for fixtures. */
export function limitsFromEnv(env: Record<string, string | undefined>): H2ConnectionOptions {
  return env.H2_LIMITS ? (JSON.parse(env.H2_LIMITS) as H2ConnectionOptions) : {};
}

export { H2Code };
