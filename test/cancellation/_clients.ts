// Clients for the cancellation suite: a raw HTTP/1.1 request the test can cut at any moment, an
// HTTP/2 session, over cleartext, TLS, a PROXY header, or a PROXY header then TLS.
import { connect as h2connect, type ClientHttp2Session } from "node:http2";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { testCerts } from "../_shared/certs.ts";
import { v1 } from "../_shared/proxy-header.ts";

/** How a client reaches the fixture. */
export type Wire = "h1" | "h2c" | "tls-h1" | "tls-h2" | "proxy-h1" | "proxy-h2c" | "proxy-tls-h1" | "proxy-tls-h2";

export const isH2 = (wire: Wire): boolean => wire.endsWith("h2") || wire.endsWith("h2c");
const isTls = (wire: Wire): boolean => wire.includes("tls");
const isProxied = (wire: Wire): boolean => wire.startsWith("proxy");

const caPem = (): string => {
  const certs = testCerts();
  return certs.read(certs.ca.cert);
};

/** A connected socket for `wire`: PROXY header first when proxied, then TLS (ALPN `alpn`) when TLS. */
function socketFor(wire: Wire, port: number, alpn: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const raw = netConnect(port, "127.0.0.1");
    raw.once("error", reject);
    raw.once("connect", () => {
      if (isProxied(wire)) raw.write(v1("203.0.113.9", "192.0.2.1", 40000, port));
      if (!isTls(wire)) return resolve(raw);
      const secure = tlsConnect({ socket: raw, ca: caPem(), servername: "localhost", ALPNProtocols: [alpn] });
      secure.once("error", reject);
      secure.once("secureConnect", () => resolve(secure));
    });
  });
}

/** An HTTP/1.1 request in flight on its own connection. */
export interface H1Call {
  /** Everything received so far. */
  readonly received: () => string;
  /** Resolves once `text` has been received. */
  until(text: string): Promise<void>;
  /** Resolves with everything received when the server closes. */
  readonly closed: Promise<string>;
  /** The client leaves: the connection is destroyed. */
  leave(): void;
}

/** Sends `GET path` over HTTP/1.1 on a new connection. */
export async function h1Call(wire: Wire, port: number, path: string): Promise<H1Call> {
  const socket = await socketFor(wire, port, "http/1.1");
  let text = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  socket.on("data", (d: Buffer) => {
    text += d.toString("latin1");
    for (const w of waiters.filter((w) => text.includes(w.text))) waiters.splice(waiters.indexOf(w), 1) && w.resolve();
  });
  socket.on("error", () => {});
  const closed = new Promise<string>((resolve) => socket.once("close", () => resolve(text)));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  return {
    received: () => text,
    until: (t) => (text.includes(t) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text: t, resolve }))),
    closed,
    leave: () => socket.destroy(),
  };
}

/** An HTTP/2 session for `wire` (h2c prior knowledge, or h2 by ALPN over TLS). */
export function h2Open(wire: Wire, port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const authority = isTls(wire) ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
    const session = h2connect(authority, {
      createConnection: () => {
        // The PROXY header is written first (queued until connected), then TLS starts on top.
        const raw = netConnect({ port, host: "127.0.0.1" });
        if (isProxied(wire)) raw.write(v1("203.0.113.9", "192.0.2.1", 40000, port));
        if (!isTls(wire)) return raw;
        return tlsConnect({ socket: raw, ca: caPem(), servername: "localhost", ALPNProtocols: ["h2"] });
      },
    });
    session.once("connect", () => resolve(session));
    session.once("error", reject);
  });
}

/** An HTTP/2 stream in flight: its status once the head came, its body so far. */
export interface H2Call {
  readonly status: Promise<number>;
  readonly body: () => string;
  until(text: string): Promise<void>;
  /** Resolves with the body when the stream ends or closes. */
  readonly closed: Promise<string>;
  /** RST_STREAM(CANCEL) for this stream only. */
  reset(): void;
}

export function h2Call(session: ClientHttp2Session, path: string): H2Call {
  const stream = session.request({ ":path": path });
  let text = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  stream.setEncoding("latin1");
  stream.on("data", (d: string) => {
    text += d;
    for (const w of waiters.filter((w) => text.includes(w.text))) waiters.splice(waiters.indexOf(w), 1) && w.resolve();
  });
  stream.on("error", () => {});
  const status = new Promise<number>((resolve) => stream.once("response", (h) => resolve(Number(h[":status"]))));
  const closed = new Promise<string>((resolve) => stream.once("close", () => resolve(text)));
  return {
    status,
    body: () => text,
    until: (t) => (text.includes(t) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text: t, resolve }))),
    closed,
    reset: () => stream.close(8), // NGHTTP2_CANCEL
  };
}
