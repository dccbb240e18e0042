import { TakoError } from "../core/errors.ts";
import type { Engine, EngineListener } from "../adapters/engine.ts";
import { clusterWorkerIndex } from "../adapters/shared/cluster.ts";
import { bindOn, Listener } from "./listener.ts";
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

/** Options of {@link TcpListener.bind}. */
export interface TcpBindOptions {
  /**
   * Set `SO_REUSEPORT` so several processes (one per core) can bind the same address and the
   * kernel spreads connections among them (Linux). Bun: yes. Deno: yes when run with
   * `--unstable-net` (Deno's flag for this option), else `TAKO_ERR_UNSUPPORTED`. Node.js 20:
   * `node:net` has no such option, `TAKO_ERR_UNSUPPORTED` (Node 22.12 / 23.1 on have it and it
   * is passed through there). Default `false`, except in a `cluster()` worker on Bun and Deno,
   * where the workers share the port this way (on Node the cluster primary holds it).
   */
  readonly reusePort?: boolean;
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
export class TcpListener extends Listener {
  /**
   * Binds `addr` (`"host:port"`, `"[v6]:port"`). Rejects with a `TakoError` naming the address
   * when it is malformed, in use, or not permitted; `TAKO_ERR_UNSUPPORTED` for `reusePort` on a
   * runtime without it.
   */
  static override async bind(addr: string, options: TcpBindOptions = {}): Promise<TcpListener> {
    const { host, port } = parseAddress(addr);
    if (options.reusePort !== undefined && typeof options.reusePort !== "boolean") {
      throw new TakoError("TAKO_ERR_CONFIG", `reusePort must be true or false; got ${JSON.stringify(options.reusePort)}`);
    }
    const engine = await loadEngine();
    // cluster() workers on Bun and Deno are separate processes, each binding the port itself.
    const reusePort = options.reusePort ?? (engine.runtime !== "node" && clusterWorkerIndex() !== null);
    return new TcpListener(await bindOn(engine, { kind: "tcp", host, port, reusePort }, addr), engine);
  }

  /**
   * Adopts a listening socket this process inherited as descriptor `fd` (a parent process or a
   * supervisor bound it and passed it on). Node.js, Bun and Deno take it through `node:net`
   * (on Bun and Deno that is their node:net path; see the README coverage table). Rejects with
   * `TAKO_ERR_LISTEN` when `fd` is not an open listening socket. For systemd socket activation
   * see {@link systemdListeners}.
   */
  static async fromFd(fd: number): Promise<TcpListener> {
    if (!Number.isInteger(fd) || fd < 0) throw new TakoError("TAKO_ERR_LISTEN", `fromFd expects a descriptor number (an integer >= 0); got ${String(fd)}`);
    const engine = await loadEngine();
    return new TcpListener(await bindOn(engine, { kind: "fd", fd }, `descriptor ${fd}`), engine);
  }

  /** @internal A socket already bound by `engine` (systemd activation). */
  static adopted(socket: EngineListener, engine: Engine): TcpListener {
    return new TcpListener(socket, engine);
  }
}
