// The clients of the contract suite: one per way a request reaches the server, each behind the
// same small interface, so a behaviour case is written once and runs over every transport.
//   h1        node:http, cleartext HTTP/1.1
//   h2c       node:http2, prior knowledge, one session for all requests
//   tls-h1    node:https offering ALPN http/1.1
//   tls-h2    node:http2 over TLS (ALPN h2), one session for all requests
//   proxy-v1  node:http over a socket that opens with a PROXY v1 header (IPv4 source)
//   proxy-v2  the same with a PROXY v2 header (IPv6 source)
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { connect as h2connect, type ClientHttp2Session } from "node:http2";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { connect as netConnect, createServer, type Socket } from "node:net";
import type { TestCerts } from "../_shared/certs.ts";
import { v1, v2 } from "../_shared/proxy-header.ts";

export type ClientKind = "h1" | "h2c" | "tls-h1" | "tls-h2" | "proxy-v1" | "proxy-v2";
export const CLIENT_KINDS: readonly ClientKind[] = ["h1", "h2c", "tls-h1", "tls-h2", "proxy-v1", "proxy-v2"];

/** The listeners of the contract fixture. */
export interface Ports {
  readonly h1: number;
  readonly h2c: number;
  readonly tls: number;
  readonly proxy: number;
}

export interface ContractRequest {
  method?: string;
  path: string;
  /** Header names in any case (HTTP/2 clients send them lower-cased). */
  headers?: Record<string, string>;
  /**
   * One string or buffer: sent with its length declared (`content-length`). An array: streamed
   * in several writes without a declared length (chunked on HTTP/1.1, DATA frames on HTTP/2).
   */
  body?: string | Uint8Array | readonly Uint8Array[];
  /** Sees each piece of the response body as it arrives. */
  onChunk?: (chunk: Buffer) => void;
}

/** Where the server should see the request come from (`req.conn.remoteAddress`/`remotePort`). */
export interface Peer {
  readonly address: string;
  readonly port: number;
}

export interface ContractResponse {
  status: number;
  /** Lower-case names, pseudo-headers removed. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  peer: Peer;
}

export interface Client {
  readonly kind: ClientKind;
  /** The server port this client talks to. */
  readonly port: number;
  /** What it sends as Host (HTTP/1.1) or :authority (HTTP/2): the TLS clients use the SNI name. */
  readonly authority: string;
  readonly httpVersion: "1.1" | "2.0";
  readonly tls: boolean;
  /** The ALPN protocol this client offers (`null`: no TLS). */
  readonly alpn: "h2" | "http/1.1" | null;
  /** The PROXY protocol version it opens each connection with (`null`: none). */
  readonly proxy: 1 | 2 | null;
  /** Every request shares one connection (HTTP/2 streams of one session). */
  readonly multiplexed: boolean;
  request(req: ContractRequest): Promise<ContractResponse>;
  /** A client of the same kind whose requests share one connection (keep-alive). */
  keepAlive(): Client;
  close(): void;
}

const REQUEST_TIMEOUT_MS = 10_000;

/** An HTTP/2 stream that ended without a complete response: the server reset it. */
export class StreamReset extends Error {
  readonly rstCode: number | undefined;
  constructor(message: string, rstCode: number | undefined) {
    super(`${message} (rstCode ${rstCode})`);
    this.rstCode = rstCode;
  }
}

/** The errors a client sees when the server closes the connection under it. */
export function isConnectionCut(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ECONNRESET" || code === "EPIPE" || error.message === "socket hang up";
}

/** Source addresses written into PROXY headers: each connection gets its own source port. */
const PROXY_SOURCE = { 1: "198.51.100.7", 2: "2001:db8::7" } as const;
let nextProxyPort = 30_000;

function proxyHeader(version: 1 | 2, dport: number): { header: Buffer; peer: Peer } {
  const port = nextProxyPort++;
  if (nextProxyPort > 60_000) nextProxyPort = 30_000;
  const address = PROXY_SOURCE[version];
  const header = version === 1 ? v1(address, "192.0.2.1", port, dport) : v2({ src: address, dst: "2001:db8::1", sport: port, dport });
  return { header, peer: { address, port } };
}

/** A plain TCP connection to `port` whose first bytes are a PROXY header. */
export function proxiedSocket(version: 1 | 2, port: number): { socket: Socket; peer: Peer } {
  const { header, peer } = proxyHeader(version, port);
  const socket = netConnect(port, "127.0.0.1");
  socket.write(header);
  return { socket, peer };
}

function lowerCased(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

function withLength(req: ContractRequest, headers: Record<string, string>): Record<string, string> {
  const body = req.body;
  if (body === undefined || Array.isArray(body)) return headers;
  return { ...headers, "content-length": String(typeof body === "string" ? Buffer.byteLength(body) : (body as Uint8Array).byteLength) };
}

/** One HTTP/1.1 exchange on the ClientRequest `open` makes; `peerOf` says how the server sees it. */
function exchangeH1(open: (onResponse: (res: IncomingMessage) => void) => ClientRequest, req: ContractRequest, peerOf: (socket: Socket) => Peer): Promise<ContractResponse> {
  return new Promise((resolve, reject) => {
    const creq = open((res) => {
      // Read now: a keep-alive agent takes the socket back before "end".
      const peer = peerOf(res.socket as Socket);
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => {
        chunks.push(c);
        req.onChunk?.(c);
      });
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: { ...res.headers }, body, text: body.toString("utf8"), peer });
      });
      res.on("error", reject);
      res.on("aborted", () => reject(new Error(`${req.method ?? "GET"} ${req.path}: response aborted`)));
    });
    creq.setTimeout(REQUEST_TIMEOUT_MS, () => creq.destroy(new Error(`${req.method ?? "GET"} ${req.path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    creq.on("error", reject);
    const body = req.body;
    if (Array.isArray(body)) for (const part of body) creq.write(part);
    else if (body !== undefined) creq.write(body);
    creq.end();
  });
}

function h1Client(kind: "h1" | "tls-h1" | "proxy-v1" | "proxy-v2", port: number, certs: TestCerts, keepAlive: boolean): Client {
  const proxy = kind === "proxy-v1" ? 1 : kind === "proxy-v2" ? 2 : null;
  const tls = kind === "tls-h1";
  /** The PROXY peer of each socket this client opened. */
  const proxied = new WeakMap<Socket, Peer>();
  const connectProxied = (): Socket => {
    const { socket, peer } = proxiedSocket(proxy!, port);
    proxied.set(socket, peer);
    return socket;
  };
  const tlsOptions = { ca: certs.read(certs.ca.cert), servername: "localhost", ALPNProtocols: ["http/1.1"] };
  let agent: Agent | undefined;
  if (keepAlive) {
    agent = tls ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ...tlsOptions }) : new Agent({ keepAlive: true, maxSockets: 1 });
    if (proxy !== null) (agent as unknown as { createConnection: () => Socket }).createConnection = connectProxied;
  }
  const authority = `${tls ? "localhost" : "127.0.0.1"}:${port}`;
  const peerOf = (socket: Socket): Peer => proxied.get(socket) ?? { address: "127.0.0.1", port: socket.localPort ?? 0 };
  return {
    kind,
    port,
    authority,
    httpVersion: "1.1",
    tls,
    alpn: tls ? "http/1.1" : null,
    proxy,
    multiplexed: false,
    request(req) {
      const options: RequestOptions = { host: "127.0.0.1", port, method: req.method ?? "GET", path: req.path, headers: withLength(req, { host: authority, ...req.headers }) };
      if (agent !== undefined) options.agent = agent;
      else if (proxy !== null) options.createConnection = connectProxied;
      else options.agent = false;
      if (tls) return exchangeH1((cb) => httpsRequest({ ...options, ...tlsOptions }, cb), req, peerOf);
      return exchangeH1((cb) => httpRequest(options, cb), req, peerOf);
    },
    keepAlive: () => h1Client(kind, port, certs, true),
    close: () => agent?.destroy(),
  };
}

function h2Client(kind: "h2c" | "tls-h2", port: number, certs: TestCerts): Client {
  const authority = `${kind === "tls-h2" ? "localhost" : "127.0.0.1"}:${port}`;
  let session: Promise<ClientHttp2Session> | null = null;
  const open = (): Promise<ClientHttp2Session> => {
    session ??= new Promise((resolve, reject) => {
      const s = kind === "h2c" ? h2connect(`http://127.0.0.1:${port}`) : h2connect(`https://127.0.0.1:${port}`, { ca: certs.read(certs.ca.cert), servername: "localhost" });
      s.once("connect", () => {
        s.off("error", reject);
        s.on("error", () => {});
        resolve(s);
      });
      s.once("error", reject);
    });
    return session;
  };
  const client: Client = {
    kind,
    port,
    authority,
    httpVersion: "2.0",
    tls: kind === "tls-h2",
    alpn: kind === "tls-h2" ? "h2" : null,
    proxy: null,
    multiplexed: true,
    async request(req) {
      const s = await open();
      const what = `${req.method ?? "GET"} ${req.path}`;
      return await new Promise((resolve, reject) => {
        const headers = { ":method": req.method ?? "GET", ":path": req.path, ":authority": authority, ...withLength(req, lowerCased(req.headers)) };
        const stream = s.request(headers, { endStream: req.body === undefined });
        const timer = setTimeout(() => {
          stream.close();
          reject(new Error(`${what}: no answer in ${REQUEST_TIMEOUT_MS} ms`));
        }, REQUEST_TIMEOUT_MS);
        let status = 0;
        let responseHeaders: Record<string, string | string[] | undefined> = {};
        const chunks: Buffer[] = [];
        stream.on("response", (h) => {
          status = Number(h[":status"]);
          responseHeaders = Object.fromEntries(Object.entries(h).filter(([name]) => !name.startsWith(":")));
        });
        stream.on("data", (c: Buffer) => {
          chunks.push(c);
          req.onChunk?.(c);
        });
        stream.on("end", () => {
          clearTimeout(timer);
          if (status === 0) return reject(new StreamReset(`${what}: stream ended without a response`, stream.rstCode));
          const body = Buffer.concat(chunks);
          resolve({ status, headers: responseHeaders, body, text: body.toString("utf8"), peer: { address: "127.0.0.1", port: s.socket.localPort ?? 0 } });
        });
        stream.on("close", () => {
          clearTimeout(timer);
          if (status === 0 || !stream.readableEnded) reject(new StreamReset(`${what}: stream closed`, stream.rstCode));
        });
        stream.on("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
        const body = req.body;
        if (Array.isArray(body)) for (const part of body) stream.write(part);
        else if (body !== undefined) stream.write(body);
        if (body !== undefined) stream.end();
      });
    },
    keepAlive: () => client,
    close: () => {
      session?.then(
        (s) => s.close(),
        () => {},
      );
      session = null;
    },
  };
  return client;
}

export function openClient(kind: ClientKind, ports: Ports, certs: TestCerts): Client {
  switch (kind) {
    case "h1":
      return h1Client(kind, ports.h1, certs, false);
    case "tls-h1":
      return h1Client(kind, ports.tls, certs, false);
    case "proxy-v1":
    case "proxy-v2":
      return h1Client(kind, ports.proxy, certs, false);
    case "h2c":
      return h2Client(kind, ports.h2c, certs);
    case "tls-h2":
      return h2Client(kind, ports.tls, certs);
  }
}

/**
 * A load balancer in miniature for clients that cannot write a PROXY header themselves (curl
 * 7.88 writes v1 only): a loopback port that forwards each connection to `port`, opening it
 * with a PROXY header of `version`.
 */
export async function proxyRelay(version: 1 | 2, port: number): Promise<{ port: number; close: () => Promise<void> }> {
  const open = new Set<Socket>();
  const server = createServer((down) => {
    const { socket: up } = proxiedSocket(version, port);
    for (const s of [down, up]) {
      open.add(s);
      s.on("error", () => {});
      s.once("close", () => open.delete(s));
    }
    down.pipe(up);
    up.pipe(down);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** curl's arguments to reach the server the way `kind` does (`relayPort`: proxyRelay's port for proxy kinds). */
export function curlTarget(kind: ClientKind, ports: Ports, certs: TestCerts, relayPort = 0): { base: string; args: string[] } {
  switch (kind) {
    case "h1":
      return { base: `http://127.0.0.1:${ports.h1}`, args: ["--http1.1"] };
    case "h2c":
      return { base: `http://127.0.0.1:${ports.h2c}`, args: ["--http2-prior-knowledge"] };
    case "tls-h1":
    case "tls-h2":
      return {
        base: `https://localhost:${ports.tls}`,
        args: ["--cacert", certs.ca.cert, "--resolve", `localhost:${ports.tls}:127.0.0.1`, kind === "tls-h1" ? "--http1.1" : "--http2"],
      };
    case "proxy-v1":
    case "proxy-v2":
      return { base: `http://127.0.0.1:${relayPort}`, args: ["--http1.1"] };
  }
}
