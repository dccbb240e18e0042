// A raw, long-lived client connection for lifecycle tests: write bytes whenever, wait for text,
// and observe when (and whether) the server closes the connection.
import { connect, type Socket } from "node:net";

export class RawConn {
  readonly socket: Socket;
  text = "";
  /** Resolves with the time the connection closed (ms since epoch). */
  readonly closed: Promise<number>;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (d) => {
      this.text += d.toString("latin1");
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => {
      resolve(Date.now());
      for (const w of this.#waiters.splice(0)) w();
    }));
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
    return [...this.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Aborts with a TCP reset (the abrupt close a crashed client leaves). */
  reset(): void {
    this.socket.resetAndDestroy();
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
