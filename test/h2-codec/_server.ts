// The test application (_routes.ts) on the sockets of a node:net server on 127.0.0.1 port 0,
// in the test process. Harness only: src/core stays runtime-neutral.
import { createServer, type Server, type Socket } from "node:net";
import type { H2ConnectionOptions } from "../../src/core/http2/index.ts";
import { type AppState, codecApp, newState, sweepEvery50ms } from "./_routes.ts";

export { BIG } from "./_routes.ts";

/** A running server and what its application recorded. */
export interface CodecServer {
  port: number;
  server: Server;
  state: AppState;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1, port 0. */
export async function startCodecServer(options: H2ConnectionOptions = {}): Promise<CodecServer> {
  const sockets = new Set<Socket>();
  const state = newState();
  const server = createServer((socket: Socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const conn = codecApp({ write: (b) => socket.write(b), end: () => socket.end() }, options, state);
    socket.on("data", (chunk: Uint8Array) => conn.receive(chunk));
    socket.on("drain", () => conn.setWritable(true));
    socket.on("error", () => {});
    socket.once("close", () => {
      sockets.delete(socket);
      state.conns.delete(conn);
    });
    conn.start();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const stopSweep = sweepEvery50ms(state);
  return {
    port: (server.address() as { port: number }).port,
    server,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        stopSweep();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
