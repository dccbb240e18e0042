// TLS clients for tests: Node's tls/https/http2 clients with the test CA, and openssl s_client.
import { execFile } from "node:child_process";
import { request } from "node:https";
import { connect as h2connect, type ClientHttp2Session } from "node:http2";
import { connect, type PeerCertificate, type TLSSocket } from "node:tls";
import type { CertFiles, TestCerts } from "./certs.ts";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const H2_EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

export interface HandshakeResult {
  ok: boolean;
  error?: string;
  alpn: string | false | null;
  protocol: string | null;
  /** The server certificate's subject CN. */
  cn: string | null;
  serial: string | null;
  socket: TLSSocket | null;
}

export interface HandshakeOptions {
  servername?: string | null;
  alpn?: string[];
  client?: CertFiles;
  minVersion?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";
  maxVersion?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";
  ciphers?: string;
  /** Keep the socket open (caller closes it); no request is sent on it unless `client` is set. */
  keep?: boolean;
  timeoutMs?: number;
}

/** One TLS handshake against 127.0.0.1:`port`, verifying against the test CA. */
export function handshake(certs: TestCerts, port: number, opts: HandshakeOptions = {}): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const socket = connect({
      host: "127.0.0.1",
      port,
      ca: certs.read(certs.ca.cert),
      // An IP has no SNI; checkServerIdentity is relaxed because SNI tests ask for other names.
      servername: opts.servername === null ? undefined : (opts.servername ?? "localhost"),
      checkServerIdentity: () => undefined,
      ALPNProtocols: opts.alpn,
      cert: opts.client ? certs.read(opts.client.cert) : undefined,
      key: opts.client ? certs.read(opts.client.key) : undefined,
      minVersion: opts.minVersion,
      maxVersion: opts.maxVersion,
      ciphers: opts.ciphers,
    });
    const timer = setTimeout(() => done({ ok: false, error: "timeout" }), opts.timeoutMs ?? 5000);
    let settled = false;
    const done = (r: Partial<HandshakeResult>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const peer = r.ok ? (socket.getPeerCertificate() as PeerCertificate) : null;
      const result: HandshakeResult = {
        ok: r.ok ?? false,
        error: r.error,
        alpn: r.ok ? socket.alpnProtocol : null,
        protocol: r.ok ? socket.getProtocol() : null,
        cn: peer?.subject?.CN === undefined ? null : String(peer.subject.CN),
        serial: peer?.serialNumber ?? null,
        socket: r.ok && opts.keep ? socket : null,
      };
      if (!(r.ok && opts.keep)) socket.destroy();
      resolve(result);
    };
    socket.once("secureConnect", () => {
      if (opts.client === undefined && opts.keep === true) return done({ ok: true });
      // Under TLS 1.3 the server judges a client certificate (or its absence) after the client's
      // Finished, so secureConnect proves nothing yet: the handshake counts once the server
      // answers a first request on the connection; a rejection arrives as an alert (error/close).
      socket.once("data", () => done({ ok: true }));
      if (socket.alpnProtocol === "h2") socket.write(Buffer.concat([H2_PREFACE, H2_EMPTY_SETTINGS]));
      else socket.write("HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    });
    socket.once("error", (e: Error) => done({ ok: false, error: e.message }));
    socket.once("close", () => done({ ok: false, error: "closed" }));
  });
}

export interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTPS/1.1 request (no connection reuse). */
export function https(certs: TestCerts, port: number, path: string, opts: { method?: string; body?: string; client?: CertFiles; servername?: string } = {}): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: opts.method ?? "GET",
        servername: opts.servername ?? "localhost",
        ca: certs.read(certs.ca.cert),
        cert: opts.client ? certs.read(opts.client.cert) : undefined,
        key: opts.client ? certs.read(opts.client.key) : undefined,
        agent: false,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text }));
        res.on("error", reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`https ${path} timed out`)));
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** An HTTP/2-over-TLS session to 127.0.0.1:`port` (SNI localhost), resolved once connected. */
export function h2tls(certs: TestCerts, port: number, client?: CertFiles): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`https://127.0.0.1:${port}`, {
      ca: certs.read(certs.ca.cert),
      servername: "localhost",
      cert: client ? certs.read(client.cert) : undefined,
      key: client ? certs.read(client.key) : undefined,
    });
    session.once("connect", () => {
      session.off("error", reject);
      session.on("error", () => {});
      resolve(session);
    });
    session.once("error", reject);
  });
}

/** Runs `openssl s_client` with `args` against 127.0.0.1:`port`, stdin closed; resolves with its output and exit code. */
export function sClient(port: number, args: string[], input = ""): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, ...args], { timeout: 10_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, out: stdout + stderr });
    });
    child.stdin?.end(input);
  });
}
