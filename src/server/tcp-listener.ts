import { TakoError } from "../core/errors.ts";
import type { Engine, EngineListener, SocketAddr } from "../adapters/engine.ts";
import { loadEngine } from "./select-engine.ts";

/** Splits `"127.0.0.1:8080"` or `"[::1]:0"` into host and port; throws on anything else. */
export function parseAddress(addr: string): { host: string; port: number } {
  const bad = (why: string): never => {
    throw new TakoError("TAKO_ERR_ADDRESS", `invalid listen address "${addr}": ${why}`);
  };
  if (typeof addr !== "string") bad("expected a string like 127.0.0.1:8080 or [::1]:8080");
  let host: string;
  let portText: string;
  if (addr.startsWith("[")) {
    const end = addr.indexOf("]");
    if (end === -1 || addr[end + 1] !== ":") bad("expected [IPv6]:port");
    host = addr.slice(1, end);
    portText = addr.slice(end + 2);
    if (!host.includes(":")) bad("brackets are for IPv6 addresses");
  } else {
    const colon = addr.lastIndexOf(":");
    if (colon <= 0) bad("expected host:port");
    host = addr.slice(0, colon);
    portText = addr.slice(colon + 1);
    if (host.includes(":")) bad("write IPv6 addresses in brackets, e.g. [::1]:8080");
  }
  if (!/^\d{1,5}$/.test(portText)) bad(`port "${portText}" is not a number in 0..65535`);
  const port = Number(portText);
  if (port > 65535) bad(`port ${port} is out of range 0..65535`);
  if (host === "" || /\s/.test(host)) bad("empty or blank host");
  return { host, port };
}

/**
 * A bound TCP listener. Bind first, then hand it to `serve`; with port 0 the OS picks a free
 * port, which `localAddr()` reports.
 *
 * ```ts
 * const listener = await TcpListener.bind("127.0.0.1:0");
 * console.log(listener.localAddr().port);
 * ```
 */
export class TcpListener {
  readonly #socket: EngineListener;
  readonly #engine: Engine;
  #taken = false;

  private constructor(socket: EngineListener, engine: Engine) {
    this.#socket = socket;
    this.#engine = engine;
  }

  /**
   * Binds `addr` (`"host:port"`, `"[v6]:port"`). Rejects with a `TakoError` naming the address
   * when it is malformed, in use, or not permitted.
   */
  static async bind(addr: string): Promise<TcpListener> {
    const { host, port } = parseAddress(addr);
    const engine = await loadEngine();
    try {
      return new TcpListener(await engine.bind(host, port), engine);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why =
        code === "EADDRINUSE" || (error as Error)?.name === "AddrInUse"
          ? "address already in use"
          : code === "EACCES" || (error as Error)?.name === "PermissionDenied"
            ? "permission denied"
            : code === "EADDRNOTAVAIL" || (error as Error)?.name === "AddrNotAvailable"
              ? "address not available on this machine"
              : ((error as Error)?.message ?? String(error));
      throw new TakoError("TAKO_ERR_LISTEN", `cannot bind ${addr}: ${why}`, { cause: error });
    }
  }

  /** The address actually bound (the real port when 0 was asked). */
  localAddr(): SocketAddr {
    return this.#socket.localAddr();
  }

  /** Stops listening and destroys every connection at once (prefer a handle's graceful `shutdown()`). */
  close(): Promise<void> {
    return this.#socket.close();
  }

  /** @internal The runtime engine that bound this listener. */
  engine(): Engine {
    return this.#engine;
  }

  /** @internal Hands the socket to one server; a listener serves once. */
  take(): EngineListener {
    if (this.#taken) throw new TakoError("TAKO_ERR_LISTEN", "this listener is already being served");
    this.#taken = true;
    return this.#socket;
  }
}
