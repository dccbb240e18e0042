// Runs spawnH3 (and spawnTls with { http3: true }) through the cases an HTTP/3 engine may refuse,
// on the current runtime, and prints one JSON line: case name → { ok } or { ok: false, code,
// message } (the HTTP/3 suite runs it under each runtime).
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { readFileSync } from "node:fs";
import { ClientAuth, type ServerConfig, Server, TakoError, TcpListener, TlsCert } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { fixtureApp } from "../contract/_app.ts";

type Outcome = { ok: true } | { ok: false; code: string; message: string };

const certs = testCerts();
const pem = TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key);
const derOf = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64"));
const router = fixtureApp();

const failed = (error: unknown): Outcome => ({
  ok: false,
  code: error instanceof TakoError ? error.code : String((error as Error)?.name),
  message: (error as Error)?.message ?? String(error),
});

async function h3(config: Partial<ServerConfig>, cert: TlsCert | null = pem, address = "127.0.0.1:0"): Promise<Outcome> {
  try {
    const builder = Server.builder().config(config);
    if (cert !== null) builder.tls(cert);
    const handle = await builder.build().spawnH3(address, router);
    await handle.ready();
    await handle.shutdown(1000);
    return { ok: true };
  } catch (error) {
    return failed(error);
  }
}

/** spawnTls with { http3: true } whose HTTP/3 side cannot start: `ready()` must reject and the TCP port must be closed. */
async function paired(config: Partial<ServerConfig>, takeUdp: boolean): Promise<Outcome & { tcpAfter?: string }> {
  const listener = await TcpListener.bind("127.0.0.1:0");
  const port = listener.localAddr().port;
  const udp = createSocket("udp4");
  if (takeUdp) await new Promise<void>((resolve) => udp.bind(port, "127.0.0.1", resolve));
  const handle = Server.builder().config(config).tls(pem).build().spawnTls(listener, router, { http3: true });
  let outcome: Outcome;
  try {
    await handle.ready();
    outcome = { ok: true };
  } catch (error) {
    outcome = failed(error);
  }
  await Promise.race([handle.join(), new Promise((r) => setTimeout(r, 3000))]);
  const tcpAfter = await new Promise<string>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve("connected")));
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
  });
  if (outcome.ok) await handle.shutdown(1000);
  if (takeUdp) udp.close();
  return { ...outcome, tcpAfter };
}

async function udpTaken(): Promise<Outcome> {
  const udp = createSocket("udp4");
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
  const outcome = await h3({}, pem, `127.0.0.1:${udp.address().port}`);
  udp.close();
  return outcome;
}

const results: Record<string, Outcome> = {
  noTls: await h3({}, null),
  proxy: await (async () => {
    try {
      await Server.builder().proxyProtocol("required").tls(pem).build().spawnH3("127.0.0.1:0", router);
      return { ok: true } as Outcome;
    } catch (error) {
      return failed(error);
    }
  })(),
  badAddress: await h3({}, pem, "localhost"),
  udpTaken: await udpTaken(),
  pemPaths: await h3({}),
  pemMemory: await h3({}, TlsCert.pem(certs.read(certs.localhost.cert), certs.read(certs.localhost.key))),
  der: await h3({}, TlsCert.der([derOf(certs.read(certs.localhost.cert))], derOf(readFileSync(certs.localhost.key, "utf8")))),
  resolver: await h3({}, TlsCert.resolver({ resolve: () => pem })),
  clientAuthRequired: await h3({}, pem.withClientAuth(ClientAuth.required(certs.read(certs.ca.cert)))),
  clientAuthOptional: await h3({}, pem.withClientAuth(ClientAuth.optional(certs.read(certs.ca.cert)))),
  bidi100: await h3({ h3MaxConcurrentBidiStreams: 100 }),
  bidi50: await h3({ h3MaxConcurrentBidiStreams: 50 }),
  uni3: await h3({ h3MaxConcurrentUniStreams: 3 }),
  uni16: await h3({ h3MaxConcurrentUniStreams: 16 }),
  idle5s: await h3({ h3MaxIdleTimeout: 5_000 }),
  idle1500ms: await h3({ h3MaxIdleTimeout: 1_500 }),
  idle300s: await h3({ h3MaxIdleTimeout: 300_000 }),
  idleNull: await h3({ h3MaxIdleTimeout: null }),
  congestionCubic: await h3({ h3Congestion: "cubic" }),
  congestionBbr: await h3({ h3Congestion: "bbr" }),
  datagramsOff: await h3({ h3EnableDatagrams: false }),
  datagramsOn: await h3({ h3EnableDatagrams: true }),
  retryOff: await h3({ h3UseRetry: false }),
  retryOn: await h3({ h3UseRetry: true }),
  goawayGrace: await h3({ h3GoawayGrace: 1_000 }),
  maxConnections: await h3({ maxConnections: 100 }),
  // Fields of the other transports: the same Server may also spawn them; HTTP/3 ignores them.
  otherTransports: await h3({ keepAliveTimeout: 1_000, h2MaxConcurrentStreams: 10, headerReadTimeout: 5_000, tlsHandshakeTimeout: 5_000 }),
  pairedUdpTaken: await paired({}, true),
  pairedRefusedField: await paired({ h3UseRetry: true, h3Congestion: "bbr", h3MaxConcurrentBidiStreams: 7 }, false),
};
console.log(JSON.stringify(results));
process.exit(0);
