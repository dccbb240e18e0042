import { TakoError } from "../core/errors.ts";
import type { Engine, EngineListener, ServeSpec, Serving, SocketAddr } from "../adapters/engine.ts";
import { clearStaleSocket, displayPath, isAbstract, kernelPath, SocketFile } from "../adapters/shared/socket-file.ts";
import { bindOn, Listener } from "./listener.ts";
import { loadEngine } from "./select-engine.ts";

/** Options of {@link UnixListener.bind}. */
export interface UnixBindOptions {
  /**
   * The socket file's permission bits, e.g. `0o660` (owner and group may connect: connecting
   * needs write permission). Set right after the bind, before anything is served; until then
   * the file has the mode the umask gives (with the usual 022 only the owner can connect).
   * Default: left as the umask made it. Not for abstract names (they have no file).
   */
  readonly mode?: number;
}

/**
 * The socket file's lifecycle around an engine listener: removed once the server has stopped
 * (after the drain) or the listener is closed.
 */
class SocketFileListener implements EngineListener {
  readonly #inner: EngineListener;
  readonly #file: SocketFile;

  constructor(inner: EngineListener, file: SocketFile) {
    this.#inner = inner;
    this.#file = file;
  }

  localAddr(): SocketAddr {
    return this.#inner.localAddr();
  }

  serve(spec: ServeSpec): Serving {
    const serving = this.#inner.serve(spec);
    const file = this.#file;
    return {
      closed: serving.closed.then(() => file.remove()),
      ready: serving.ready,
      drain: () => serving.drain(),
      forceClose: () => serving.forceClose(),
    };
  }

  async close(): Promise<void> {
    await this.#inner.close();
    await this.#file.remove();
  }
}

/**
 * A bound Unix domain socket listener, served like a {@link TcpListener} by `spawnHttp`,
 * `spawnH2c`, `spawnTls` (and PROXY mode, and the `serve*` shorthands), with the same
 * connection cap, deadlines and drain. Handlers see `req.conn.family === "unix"`.
 *
 * ```ts
 * const listener = await UnixListener.bind("/run/app/http.sock", { mode: 0o660 });
 * await serve(listener, router); // curl --unix-socket /run/app/http.sock http://localhost/
 * ```
 */
export class UnixListener extends Listener {
  /**
   * Binds the Unix socket at `path`, or the Linux abstract name `"@name"` (no file; Bun and
   * Deno; Node.js refuses it with `TAKO_ERR_UNSUPPORTED`, its libuv pads the name). A socket
   * file left by a server that is gone (nobody accepts on it) is replaced; a socket someone
   * listens on, a regular file, a directory or a symbolic link is never touched: `TAKO_ERR_LISTEN`.
   * The file is unlinked when the server has shut down or the listener is closed.
   */
  static override async bind(path: string, options: UnixBindOptions = {}): Promise<UnixListener> {
    if (typeof path !== "string" || path === "" || path === "@" || path.includes("\0", 1) || (path.startsWith("\0") && path.length === 1)) {
      throw new TakoError("TAKO_ERR_ADDRESS", `invalid unix socket path ${JSON.stringify(path)}: expected a file path or "@name" (a Linux abstract name)`);
    }
    const mode = options.mode ?? null;
    if (mode !== null && (!Number.isInteger(mode) || mode < 0 || mode > 0o777)) {
      throw new TakoError("TAKO_ERR_CONFIG", `mode must be permission bits in 0..0o777 (e.g. 0o660); got ${String(mode)}`);
    }
    const abstract = isAbstract(path);
    if (abstract && mode !== null) throw new TakoError("TAKO_ERR_CONFIG", `mode is for socket files; the abstract name ${displayPath(path)} has none`);
    // sun_path holds 108 bytes with its terminating NUL on Linux; a longer path would be cut.
    if (new TextEncoder().encode(kernelPath(path)).length > 107) {
      throw new TakoError("TAKO_ERR_ADDRESS", `unix socket path ${JSON.stringify(displayPath(path))} is longer than 107 bytes (the kernel's sun_path limit)`);
    }
    const engine = await loadEngine();
    const what = `unix socket ${displayPath(path)}`;
    if (abstract) return new UnixListener(await bindOn(engine, { kind: "unix", path: kernelPath(path), mode: null }, what), engine);
    await clearStaleSocket(path);
    const socket = await bindOn(engine, { kind: "unix", path, mode }, what);
    let file: SocketFile;
    try {
      file = await SocketFile.created(path);
    } catch (error) {
      await socket.close();
      throw new TakoError("TAKO_ERR_LISTEN", `cannot set up ${what}: ${(error as Error).message}`, { cause: error });
    }
    return new UnixListener(new SocketFileListener(socket, file), engine);
  }

  /**
   * Adopts a listening Unix socket this process inherited as descriptor `fd`. Its file belongs
   * to whoever created it (systemd, a parent process) and is not unlinked at shutdown.
   */
  static async fromFd(fd: number): Promise<UnixListener> {
    if (!Number.isInteger(fd) || fd < 0) throw new TakoError("TAKO_ERR_LISTEN", `fromFd expects a descriptor number (an integer >= 0); got ${String(fd)}`);
    const engine = await loadEngine();
    return new UnixListener(await bindOn(engine, { kind: "fd", fd }, `descriptor ${fd}`), engine);
  }

  /** @internal A socket already bound by `engine` (systemd activation). */
  static adopted(socket: EngineListener, engine: Engine): UnixListener {
    return new UnixListener(socket, engine);
  }
}
