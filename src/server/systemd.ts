import { systemdFds } from "../adapters/shared/socket-file.ts";
import type { Listener } from "./listener.ts";
import { bindOn } from "./listener.ts";
import { loadEngine } from "./select-engine.ts";
import { TcpListener } from "./tcp-listener.ts";
import { UnixListener } from "./unix-listener.ts";

/** One socket systemd passed: its listener and its `FileDescriptorName=` (`""` when unnamed). */
export interface SystemdListener {
  readonly name: string;
  readonly fd: number;
  readonly listener: TcpListener | UnixListener;
}

/**
 * The listening sockets systemd passed this process (socket activation: `LISTEN_FDS` and
 * `LISTEN_PID`, descriptors from 3, names from `LISTEN_FDNAMES`), in order, each adopted as a
 * {@link TcpListener} or a {@link UnixListener} by its family (a Unix socket's file stays
 * systemd's: it is not unlinked). Empty when the process was not socket-activated (or the
 * variables were meant for another process). The variables are then removed from the
 * environment. Where the runtime adopts descriptors: see {@link TcpListener.fromFd}.
 *
 * ```ts
 * const [http] = await systemdListeners();
 * await serve(http?.listener ?? (await TcpListener.bind("127.0.0.1:8080")), router);
 * ```
 */
export async function systemdListeners(): Promise<SystemdListener[]> {
  const fds = systemdFds();
  if (fds.length === 0) return [];
  const engine = await loadEngine();
  const out: SystemdListener[] = [];
  for (const { fd, name } of fds) {
    const socket = await bindOn(engine, { kind: "fd", fd }, `systemd descriptor ${fd}${name === "" ? "" : ` (${name})`}`);
    const listener: Listener = socket.localAddr().family === "unix" ? UnixListener.adopted(socket, engine) : TcpListener.adopted(socket, engine);
    out.push({ name, fd, listener: listener as TcpListener | UnixListener });
  }
  return out;
}
