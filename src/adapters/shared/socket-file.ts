import { chmodSync } from "node:fs";
import { lstat, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { dirname } from "node:path";
import { TakoError } from "../../core/errors.ts";

/**
 * The file side of a Unix listener, written once for every runtime on node:fs and node:net
 * (present on Node, Bun and Deno): clearing a stale socket file before the bind, the mode after
 * it, the unlink at shutdown, and the descriptors systemd hands a process.
 */

/** `"@name"` (how tako writes a Linux abstract name) as the kernel spells it: `"\0name"`. */
export function kernelPath(path: string): string {
  return path.startsWith("@") ? `\0${path.slice(1)}` : path;
}

/** `"\0name"` as tako shows it: `"@name"`. */
export function displayPath(path: string): string {
  return path.startsWith("\0") ? `@${path.slice(1)}` : path;
}

export function isAbstract(path: string): boolean {
  return path.startsWith("@") || path.startsWith("\0");
}

const errno = (error: unknown): string | undefined => (error as { code?: string } | null)?.code;

/** Resolves `true` when something accepts connections on the socket at `path`, `false` when it is refused. */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      // A full backlog also shows as a connect that does not complete: someone is there.
      resolve(true);
    }, 1000);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      const code = errno(error);
      if (code === "ECONNREFUSED" || code === "ENOENT") resolve(false);
      else reject(error);
    });
  });
}

/**
 * Makes `path` free to bind. Nothing there: done. A socket nobody listens on (a server that
 * died without unlinking it; probed by connecting): removed. Anything else is refused with a
 * `TakoError` (`TAKO_ERR_LISTEN`): a socket in use, a regular file, a directory, and a symbolic
 * link whatever it points to (`lstat`: the link is never followed, so a link planted in a shared
 * directory cannot make the server remove or replace its target).
 */
export async function clearStaleSocket(path: string): Promise<void> {
  const refuse = (why: string, cause?: unknown): never => {
    throw new TakoError("TAKO_ERR_LISTEN", `cannot bind unix socket ${path}: ${why}`, { cause });
  };
  let stat: Awaited<ReturnType<typeof lstat>>;
  try {
    stat = await lstat(path);
  } catch (error) {
    if (errno(error) !== "ENOENT") return refuse((error as Error).message, error);
    // Node reports a bind in a missing directory as EACCES ("permission denied"): say it here.
    const dir = await lstat(dirname(path)).catch((e: unknown) => e as Error);
    if (dir instanceof Error) refuse(errno(dir) === "ENOENT" ? "no such directory" : dir.message, dir);
    return;
  }
  if (stat.isSymbolicLink()) refuse("the path is a symbolic link; it is neither followed nor replaced");
  if (!stat.isSocket()) refuse(`the path exists and is not a socket (${stat.isDirectory() ? "a directory" : "a regular file or other"}); it is never replaced`);
  let inUse: boolean;
  try {
    inUse = await listening(path);
  } catch (error) {
    return refuse(`cannot probe the existing socket (${errno(error) ?? (error as Error).message})`, error);
  }
  if (inUse) refuse("address already in use (a server is listening on it)");
  try {
    await unlink(path);
  } catch (error) {
    if (errno(error) !== "ENOENT") refuse(`cannot remove the stale socket (${errno(error) ?? (error as Error).message})`, error);
  }
}

/**
 * Engines: gives the socket file a listener just bound at `target.path` its `mode` (synchronously,
 * before the bind is reported, so nothing is served before it). Nothing for an abstract name.
 */
export function applyMode(target: { readonly path: string; readonly mode: number | null }): void {
  if (target.mode !== null && !target.path.startsWith("\0")) chmodSync(target.path, target.mode);
}

/**
 * The socket file a Unix listener created, removed at shutdown unless another server has taken
 * the path since (a rolling restart binds the path as soon as this server stops accepting,
 * before its drain ends). Removal runs after this listener has closed, so the file is removed
 * only when nobody accepts on it: the device and inode cannot tell ours from a successor's (the
 * successor removes our stale file before binding, and the file system may give its new file
 * the freed inode number; on Bun and Deno the engine may also have bound the path again when it
 * moved to another path).
 */
export class SocketFile {
  readonly path: string;
  #removed = false;

  private constructor(path: string) {
    this.path = path;
  }

  /** Records the socket just bound at `path`. */
  static async created(path: string): Promise<SocketFile> {
    if (!(await lstat(path)).isSocket()) throw new Error("no socket file at the path after the bind");
    return new SocketFile(path);
  }

  /** Unlinks the socket file if it is still ours. Idempotent; never throws. */
  async remove(): Promise<void> {
    if (this.#removed) return;
    this.#removed = true;
    try {
      if ((await lstat(this.path)).isSocket() && !(await listening(this.path))) await unlink(this.path);
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/**
 * The listening sockets systemd passed (socket activation, `sd_listen_fds(3)`): descriptors 3 …
 * 3 + `LISTEN_FDS` − 1, with their `LISTEN_FDNAMES` names (`""` when unnamed). Empty when
 * `LISTEN_FDS` is unset, or `LISTEN_PID` names another process (the variables were inherited).
 * The variables are removed from the environment, so child processes do not adopt them again.
 */
export function systemdFds(): { fd: number; name: string }[] {
  const env = process.env;
  const count = env.LISTEN_FDS;
  const pid = env.LISTEN_PID;
  if (count === undefined) return [];
  if (pid !== undefined && pid !== "" && Number(pid) !== process.pid) return [];
  const n = Number(count);
  if (!Number.isInteger(n) || n < 0 || n > 4096) throw new TakoError("TAKO_ERR_LISTEN", `LISTEN_FDS is not a descriptor count: ${JSON.stringify(count)}`);
  const names = (env.LISTEN_FDNAMES ?? "").split(":");
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  return Array.from({ length: n }, (_, i) => ({ fd: 3 + i, name: names[i] ?? "" }));
}
