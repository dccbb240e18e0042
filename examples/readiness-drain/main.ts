// A Kubernetes-style readiness drain: /livez and /readyz from router.health(), and a
// shutdownDelay so the load balancer takes the pod out of rotation before connections are refused.
//   node --import tsx examples/readiness-drain/main.ts     (or bun / deno run -A)
// Then: curl -i http://127.0.0.1:3000/readyz ; kill -TERM <pid> ; curl -i http://127.0.0.1:3000/readyz
// After SIGTERM, /readyz answers 503 {"status":"draining"} while / is still served for
// SHUTDOWN_DELAY ms (default 5000: longer than the probe period, e.g. readinessProbe.periodSeconds: 1
// with failureThreshold: 2, plus the endpoint propagation time); then the drain runs.
import { Router, Server, shutdownOnSignals, TcpListener } from "../../src/index.ts";

let dependencyUp = true; // stands for a database or a downstream service
const router = new Router().health({ checks: { dependency: () => dependencyUp }, checkTimeout: 1_000 });
router.get("/", () => "ok");
router.post("/dependency/{state}", (req) => {
  dependencyUp = req.params.state === "up";
  return { dependencyUp };
});

const server = Server.builder()
  .config({
    shutdownDelay: Number(process.env.SHUTDOWN_DELAY ?? 5_000), // readiness fails, serving goes on
    drainTimeout: 10_000, // then in-flight requests get 10 s
  })
  .build();

const listener = await TcpListener.bind(process.env.ADDR ?? "127.0.0.1:3000");
const handle = server.spawnHttp(listener, router);
await handle.ready();
await shutdownOnSignals(handle);
const { address, port } = handle.localAddr();
console.log(`listening on http://${address}:${port} (pid ${process.pid}); /livez, /readyz`);
await handle.join();
console.log("stopped");
