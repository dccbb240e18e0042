// Throughput prototype, not an engine: tako's HTTP/1.1 codec (src/core/http1/) over Bun.listen
// raw TCP, serving GET / ("Hello, World!") and POST /echo (the JSON body parsed and written
// back, as bench/http/servers/_raw-fetch.ts does) with keep-alive and pipelining. Prints
// "READY <port>" for bench/http1-codec/run.sh. No Bun types are installed: the part used.
import type { Http1ParseError } from "../../src/core/http1/errors.ts";
import { Http1Parser, type Http1RequestHead, type Http1Sink } from "../../src/core/http1/parser.ts";
import { serializeResponse, serializeResponseHead } from "../../src/core/http1/response.ts";

interface Socket {
  data: Conn;
  write(data: Uint8Array): number;
  end(): void;
}
interface ListenOptions {
  hostname: string;
  port: number;
  socket: {
    open(s: Socket): void;
    data(s: Socket, chunk: Uint8Array): void;
    drain(s: Socket): void;
    close(s: Socket): void;
    error(s: Socket, e: Error): void;
  };
}
const Bun = (globalThis as unknown as { Bun: { listen(o: ListenOptions): { port: number }; env: Record<string, string | undefined> } }).Bun;

const TEXT = ["content-type", "text/plain; charset=utf-8"];
const JSON_TYPE = ["content-type", "application/json"];
const HELLO = new TextEncoder().encode("Hello, World!");
const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/** The date header, refreshed once a second (Bun.serve sends one too). */
let date = new Date().toUTCString();
setInterval(() => (date = new Date().toUTCString()), 1000).unref?.();

/** One connection: the parser, the request being read, and the responses of one read, written together. */
class Conn implements Http1Sink {
  readonly #socket: Socket;
  readonly parser: Http1Parser;
  #head: Http1RequestHead | null = null;
  #body: Uint8Array[] = [];
  #out: Uint8Array[] = [];
  #pending: Uint8Array | null = null;
  #close = false;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.parser = new Http1Parser(this);
  }

  onHead(head: Http1RequestHead): void {
    this.#head = head;
  }

  onBody(bytes: Uint8Array): void {
    // A view of the read buffer: copied, since the next read may reuse it.
    this.#body.push(bytes.slice());
  }

  onComplete(): void {
    const head = this.#head!;
    this.#head = null;
    const close = !head.keepAlive;
    if (head.target === "/" && (head.method === "GET" || head.method === "HEAD")) {
      this.#reply(200, TEXT, HELLO, close, head.method === "HEAD");
    } else if (head.target === "/echo" && head.method === "POST") {
      const body = this.#body.length === 1 ? this.#body[0]! : Buffer.concat(this.#body);
      let json: string | null = null;
      try {
        json = JSON.stringify(JSON.parse(utf8.decode(body)));
      } catch {}
      if (json === null) this.#reply(400, TEXT, encoder.encode("Bad Request"), close, false);
      else this.#reply(200, JSON_TYPE, encoder.encode(json), close, false);
    } else {
      this.#reply(404, TEXT, encoder.encode("Not Found"), close, false);
    }
    this.#body = [];
    if (close) this.#close = true;
  }

  #reply(status: number, type: string[], body: Uint8Array, close: boolean, head: boolean): void {
    this.#out.push(serializeResponse(status, [type[0]!, type[1]!, "date", date], body, close, head));
  }

  /** Parses one read and writes every response it completed in one write. */
  onData(chunk: Uint8Array): void {
    try {
      this.parser.execute(chunk);
    } catch (error) {
      const e = error as Http1ParseError;
      this.#out.push(serializeResponseHead(e.status ?? 400, TEXT, { length: 0 }, true));
      this.#close = true;
    }
    this.#flush();
  }

  #flush(): void {
    const parts = this.#out;
    if (parts.length === 0) return;
    this.#out = [];
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.#write(bytes);
  }

  #write(bytes: Uint8Array): void {
    if (this.#pending !== null) {
      this.#pending = Buffer.concat([this.#pending, bytes]);
      return;
    }
    const n = this.#socket.write(bytes);
    if (n < bytes.length) this.#pending = bytes.subarray(Math.max(n, 0));
    else if (this.#close) this.#socket.end();
  }

  drain(): void {
    const pending = this.#pending;
    if (pending === null) return;
    this.#pending = null;
    this.#write(pending);
  }
}

const server = Bun.listen({
  hostname: "127.0.0.1",
  port: Number(Bun.env.PORT ?? "0"),
  socket: {
    open: (s) => {
      s.data = new Conn(s);
    },
    data: (s, chunk) => s.data.onData(chunk),
    drain: (s) => s.data.drain(),
    close: () => {},
    error: () => {},
  },
});
console.log(`READY ${server.port}`);
