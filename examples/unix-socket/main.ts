// Serving on a Unix domain socket (behind nginx, HAProxy or a sidecar on the same host), or on
// a socket systemd hands the process (socket activation). The same file on every runtime.
//   node --import tsx examples/unix-socket/main.ts             (or bun / deno run -A)
//   SOCKET=/tmp/app.sock  (default)   SOCKET=@app  (Linux abstract name; Bun and Deno)
// Then: curl --unix-socket /tmp/app.sock http://localhost/whoami
// Under systemd (app.socket with ListenStream=/run/app.sock or a port), the sockets it passes are
// used instead and left to systemd. SIGINT/SIGTERM drain; the socket file is removed at the end.
import { Router, Server, shutdownOnSignals, systemdListeners, UnixListener } from "../../src/index.ts";

const router = new Router();
router.get("/", () => "Hello over a Unix socket!");
router.get("/whoami", (req) => ({
  family: req.conn.family, // "unix"
  listener: req.conn.localAddress, // the socket path
  peer: req.conn.remoteAddress, // "" (a Unix client has no address), or the client from a PROXY header
}));

const activated = await systemdListeners();
const listener = activated[0]?.listener ?? (await UnixListener.bind(process.env.SOCKET ?? "/tmp/app.sock", { mode: 0o660 }));

const handle = Server.builder().config({ drainTimeout: 10_000 }).build().spawnHttp(listener, router);
await handle.ready();
await shutdownOnSignals(handle);
const { address, family } = handle.localAddr();
console.log(`listening on ${family === "unix" ? `unix:${address}` : `http://${address}:${handle.localAddr().port}`} (pid ${process.pid})`);
await handle.join();
console.log("stopped");
