// A raw TCP client for byte-exact wire tests: writes bytes, collects everything the server
// sends until it closes the connection or the time limit passes.
import { connect } from "node:net";

export interface RawResult {
  /** Everything received, as latin1 text. */
  text: string;
  /** True when the server closed the connection (false: we hit the time limit). */
  closed: boolean;
  /** Status codes of every response line seen, in order. */
  statuses: number[];
}

export function rawExchange(port: number, chunks: (string | Uint8Array)[], opts: { timeoutMs?: number; gapMs?: number; endAfter?: boolean } = {}): Promise<RawResult> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let text = "";
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ text, closed, statuses });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on("data", (d) => (text += d.toString("latin1")));
    socket.on("close", () => finish(true));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ECONNRESET" || e.code === "EPIPE") finish(true);
      else if (!done) reject(e);
    });
    socket.on("connect", async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (opts.gapMs !== undefined) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.endAfter === true) socket.end();
    });
  });
}
