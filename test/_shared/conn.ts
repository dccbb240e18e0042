// A raw, long-lived client connection for lifecycle tests: write bytes whenever, wait for text,
// and observe when (and whether) the server closes the connection.
import { connect, type Socket } from "node:net";

export class RawConn {
  readonly socket: Socket;
  text = "";
  /** When the last bytes arrived (ms since epoch; 0: none yet), read in the 'data' event itself. */
  lastDataAt = 0;
  /** Resolves with the time the connection closed (ms since epoch). */
  readonly closed: Promise<number>;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (d) => {
      this.lastDataAt = Date.now();
      this.text += d.toString("latin1");
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        resolve(Date.now());
        for (const w of this.#waiters.splice(0)) w();
      }),
    );
  }

  /** Connects; rejects with the socket error (e.g. ECONNREFUSED). */
  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.once("connect", () => resolve(new RawConn(socket)));
      socket.once("error", reject);
    });
  }

  send(data: string): this {
    this.socket.write(data);
    return this;
  }

  get(path: string): this {
    return this.send(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readyState === "closed";
  }

  /** Waits until the received text matches `re` (or the connection closes, or time runs out). */
  async waitFor(re: RegExp, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.text)) {
      if (this.socket.destroyed || Date.now() > deadline) return re.test(this.text);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
    return true;
  }

  /** Statuses of the responses received so far. */
  get statuses(): number[] {
    return [...this.text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
  }

  /**
   * Waits until `n` complete responses arrived (or the connection closed, or time ran out) and
   * returns the complete ones: a signal, not a sleep, also when the server keeps the connection open.
   */
  async responses(n: number, timeoutMs = 5000): Promise<RawResponse[]> {
    const deadline = Date.now() + timeoutMs;
    let parsed = parseResponses(this.text, this.isClosed);
    while (parsed.length < n && !this.isClosed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => (clearTimeout(timer), resolve()));
      });
      parsed = parseResponses(this.text, this.isClosed);
    }
    return parsed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Aborts with a TCP reset (the abrupt close a crashed client leaves). */
  reset(): void {
    this.socket.resetAndDestroy();
  }
}

export interface RawResponse {
  status: number;
  /** Header lines as received, names lower-cased. */
  headers: [name: string, value: string][];
  body: string;
}

/**
 * The complete HTTP/1.x responses at the start of `text` (latin1): framed by Content-Length, by
 * chunked encoding, or by the end of the connection (`closed`: the server closed it).
 */
export function parseResponses(text: string, closed = false): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end === -1) return out;
    const [statusLine, ...lines] = text.slice(at, end).split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1] ?? 0);
    const headers = lines.map((l) => [l.slice(0, l.indexOf(":")).trim().toLowerCase(), l.slice(l.indexOf(":") + 1).trim()] as [string, string]);
    const get = (name: string): string | undefined => headers.find(([n]) => n === name)?.[1];
    let bodyStart = end + 4;
    let body: string;
    if (get("transfer-encoding")?.toLowerCase() === "chunked") {
      body = "";
      for (;;) {
        const lineEnd = text.indexOf("\r\n", bodyStart);
        if (lineEnd === -1) return out;
        const size = parseInt(text.slice(bodyStart, lineEnd), 16);
        if (text.length < lineEnd + 2 + size + 2) return out;
        body += text.slice(lineEnd + 2, lineEnd + 2 + size);
        bodyStart = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
      at = bodyStart;
    } else if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = "";
      at = bodyStart;
    } else {
      const declared = get("content-length");
      if (declared === undefined && !closed) return out;
      const length = declared === undefined ? text.length - bodyStart : Number(declared);
      if (text.length < bodyStart + length) return out;
      body = text.slice(bodyStart, bodyStart + length);
      at = bodyStart + length;
    }
    out.push({ status, headers, body });
  }
}

/** Resolves with the error code of a connect attempt, or "connected". */
export function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}
