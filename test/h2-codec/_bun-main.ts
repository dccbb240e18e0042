// The test application (_routes.ts) on Bun.listen raw TCP sockets, as a Bun engine would host
// the codec: 127.0.0.1, port 0, "READY <port>" on stdout. Codec options from H2_LIMITS (JSON).
import { codecApp, limitsFromEnv, newState, sweepEvery50ms } from "./_routes.ts";
import type { H2ServerConnection } from "../../src/core/http2/index.ts";

interface Conn {
  codec: H2ServerConnection | null;
  /** Bytes the kernel did not take yet, in order. */
  pending: Uint8Array[];
  /** The codec is done: FIN once `pending` is written. */
  closing: boolean;
}
interface BunSocket {
  write(bytes: Uint8Array): number;
  end(): void;
  shutdown(halfClose?: boolean): void;
  data: Conn;
}
interface BunApi {
  listen(options: {
    hostname: string;
    port: number;
    socket: {
      open(s: BunSocket): void;
      data(s: BunSocket, chunk: Uint8Array): void;
      drain(s: BunSocket): void;
      close(s: BunSocket): void;
      error(s: BunSocket, e: Error): void;
    };
  }): { port: number };
  env: Record<string, string | undefined>;
}
const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;
const options = limitsFromEnv(Bun.env);
const state = newState();

/** How long a closed connection keeps reading (and dropping) what the peer still sends. */
const LINGER_MS = 2000;

/**
 * The codec ended the connection (a GOAWAY is among the bytes written): FIN once every byte is
 * written, while still reading and dropping what the peer sends for a while. Closing with unread
 * input would reset the connection, and the peer would lose the GOAWAY.
 */
function finish(s: BunSocket): void {
  const conn = s.data;
  if (conn.closing) return;
  conn.closing = true;
  if (conn.pending.length === 0) s.shutdown();
  setTimeout(() => s.end(), LINGER_MS).unref();
}

function write(s: BunSocket, bytes: Uint8Array): boolean {
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

const server = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(s) {
      s.data = { codec: null, pending: [], closing: false };
      const codec = codecApp({ write: (b) => write(s, b), end: () => finish(s) }, options, state);
      s.data.codec = codec;
      codec.start();
    },
    data(s, chunk) {
      s.data.codec?.receive(chunk);
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
      if (conn.closing) s.shutdown();
      else conn.codec?.setWritable(true);
    },
    close(s) {
      if (s.data.codec !== null) state.conns.delete(s.data.codec);
    },
    error() {},
  },
});
sweepEvery50ms(state);
console.log(`READY ${server.port}`);
