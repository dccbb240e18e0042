import { TakoError } from "../core/errors.ts";
import type { BindTarget, Engine, EngineListener, SocketAddr } from "../adapters/engine.ts";

/** The runtime's error for a failed bind, as one phrase. */
export function bindFailure(error: unknown): string {
  const code = (error as { code?: string }).code;
  const name = (error as Error)?.name;
  if (code === "EADDRINUSE" || name === "AddrInUse") return "address already in use";
  if (code === "EACCES" || name === "PermissionDenied") return "permission denied";
  if (code === "EADDRNOTAVAIL" || name === "AddrNotAvailable") return "address not available on this machine";
  if (code === "ENOENT" || name === "NotFound") return "no such directory";
  if (code === "EBADF" || name === "BadResource") return "not an open descriptor";
  if (code === "ENOTSOCK") return "not a socket";
  return (error as Error)?.message ?? String(error);
}

/** Binds `target` on `engine`; a runtime error becomes a `TakoError` (`TAKO_ERR_LISTEN`) naming `what`. */
export async function bindOn(engine: Engine, target: BindTarget, what: string): Promise<EngineListener> {
  try {
    return await engine.bind(target);
  } catch (error) {
    if (error instanceof TakoError) throw error;
    throw new TakoError("TAKO_ERR_LISTEN", `cannot bind ${what}: ${bindFailure(error)}`, { cause: error });
  }
}

/**
 * What `spawnHttp`, `spawnH2c`, `spawnTls` and the `serve*` shorthands serve on: a bound
 * {@link TcpListener} or {@link UnixListener}. Bind first, then spawn; a listener serves once.
 */
export abstract class Listener {
  readonly #socket: EngineListener;
  readonly #engine: Engine;
  #taken = false;

  /** @internal */
  protected constructor(socket: EngineListener, engine: Engine) {
    this.#socket = socket;
    this.#engine = engine;
  }

  /**
   * The address actually bound: for TCP the real port when 0 was asked; for a Unix socket
   * `{ address: path, port: 0, family: "unix" }` (an abstract name as `"@name"`).
   */
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
