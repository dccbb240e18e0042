// Under Deno: whether DenoWireSocket reads and writes through Deno's own ops (connOps) on a TCP
// and a TLS connection, and that bytes go both ways through them (and through the fallback,
// conn.read and conn.write); and whether a connection's descriptor opens as a node:net handle
// (tcpWrap's openFromRid, what TLS on Deno.listen connections runs on) with bytes both ways.
// Prints one JSON line.
import { DenoWireSocket } from "../../src/adapters/deno/wire-socket.ts";
import type { DenoConn, DenoListener } from "../../src/adapters/deno/deno-api.ts";
import { testCerts } from "../_shared/certs.ts";
import { readFileSync } from "node:fs";
import { Socket } from "node:net";
import { tcpWrap } from "../../src/adapters/deno/deno-api.ts";

interface D {
  listen(o: { hostname: string; port: number }): DenoListener;
  listenTls(o: { hostname: string; port: number; cert: string; key: string }): DenoListener;
  connect(o: { hostname: string; port: number }): Promise<DenoConn>;
  connectTls(o: { hostname: string; port: number; caCerts: string[] }): Promise<DenoConn>;
}
const D = (globalThis as unknown as { Deno: D }).Deno;

async function check(listener: DenoListener, dial: (port: number) => Promise<DenoConn>, direct = true): Promise<{ direct: boolean; echoed: string }> {
  const port = (listener.addr as { port: number }).port;
  const [client, server] = await Promise.all([dial(port), listener.accept()]);
  await server.handshake?.();
  const socket = new DenoWireSocket(server, true, direct);
  let got = "";
  const done = new Promise<void>((resolve) => {
    socket.data = {
      data(chunk: Uint8Array) {
        got += new TextDecoder().decode(chunk);
        socket.write(new TextEncoder().encode(`echo ${got}`));
        resolve();
      },
      ended() {},
      closed() {},
      drain() {},
    } as never;
  });
  socket.start();
  await client.write(new TextEncoder().encode("ping"));
  await done;
  const buf = new Uint8Array(64);
  const n = (await client.read(buf)) ?? 0;
  client.close();
  socket.terminate();
  listener.close();
  return { direct: socket.direct, echoed: new TextDecoder().decode(buf.subarray(0, n)) };
}

const certs = testCerts();
const tcp = await check(D.listen({ hostname: "127.0.0.1", port: 0 }), (port) => D.connect({ hostname: "127.0.0.1", port }));
const tls = await check(D.listenTls({ hostname: "127.0.0.1", port: 0, cert: readFileSync(certs.localhost.cert, "utf8"), key: readFileSync(certs.localhost.key, "utf8") }), (port) =>
  D.connectTls({ hostname: "localhost", port, caCerts: [readFileSync(certs.ca.cert, "utf8")] }),
);
// The fallback, conn.read and conn.write.
const fallback = await check(D.listen({ hostname: "127.0.0.1", port: 0 }), (port) => D.connect({ hostname: "127.0.0.1", port }), false);
// A duplicate of an accepted connection's descriptor as a node:net socket: echoes through it.
async function dup(): Promise<{ handle: boolean; echoed: string }> {
  const wrap = tcpWrap();
  if (wrap === null) return { handle: false, echoed: "" };
  const listener = D.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as { port: number }).port;
  const [client, server] = await Promise.all([D.connect({ hostname: "127.0.0.1", port }), listener.accept()]);
  const socket = new DenoWireSocket(server);
  const handle = new wrap.TCP(wrap.constants.SOCKET);
  const opened = handle.openFromRid(socket.rid) === 0;
  const s = new Socket({ handle } as ConstructorParameters<typeof Socket>[0]);
  s.on("data", (chunk: Uint8Array) => s.write(`echo ${new TextDecoder().decode(chunk)}`));
  await client.write(new TextEncoder().encode("ping"));
  const buf = new Uint8Array(64);
  const n = (await client.read(buf)) ?? 0;
  s.destroy();
  client.close();
  server.close();
  listener.close();
  return { handle: opened, echoed: new TextDecoder().decode(buf.subarray(0, n)) };
}
console.log(JSON.stringify({ tcp, tls, fallback, dup: await dup() }));
