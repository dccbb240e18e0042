// h2c behind a proxy: the same Router over HTTP/2 cleartext with prior knowledge, with the
// HTTP/2 limits set explicitly and a graceful drain (GOAWAY) on SIGTERM/SIGINT.
//
//   ADDR=127.0.0.1:8081 npm exec tsx examples/h2c/main.ts
//   curl --http2-prior-knowledge http://127.0.0.1:8081/users/7
//
// Expose h2c only to a proxy you control (Envoy, nginx, HAProxy, a service mesh): it has no TLS.
import { Router, Server, shutdownOnSignals, TcpListener } from "../../src/index.ts";

const router = new Router();
router.get("/", () => "Hello over HTTP/2!");
router.get("/users/{id}", (req) => ({ id: req.params.id, httpVersion: req.conn.httpVersion }));
router.post("/echo", async (req) => await req.json());

const server = Server.builder()
  .config({
    drainTimeout: 10_000,
    h2MaxConcurrentStreams: 250, // what the proxy may multiplex on one connection
    h2MaxHeaderListSize: 32 * 1024,
    h2KeepAliveInterval: 30_000, // PING idle proxy connections; close a dead peer
  })
  .build();

const listener = await TcpListener.bind(process.env.ADDR ?? "127.0.0.1:8081");
// `http1: true`: health checks that speak HTTP/1.1 may use the same port.
const handle = server.spawnH2c(listener, router, { http1: true });
await shutdownOnSignals(handle);
await handle.ready(); // on Bun the h2c transport takes over the port asynchronously
const { address, port } = handle.localAddr();
console.log(`h2c example: listening on http://${address}:${port} (HTTP/2 prior knowledge, HTTP/1.1 too)`);
await handle.join();
console.log("stopped: in-flight streams answered, GOAWAY sent");
