// Load-shedding fixture: router.health(), GET / and routes that keep the event loop busy, served
// with spawnHttp (TAKO_PROTO=h2c: spawnH2c) under the config in TAKO_CONFIG (JSON). Prints
// "READY <port>"; SIGTERM drains it.
import { Router, Server, TcpListener } from "../../src/index.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const spin = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
};

let handled = 0;
const router = new Router().health();
router.get("/", () => {
  handled++;
  return "ok";
});
router.get("/handled", () => String(handled));
// Blocks the event loop for {ms} in one piece: the loop runs late by as much.
router.get("/block/{ms}", (req) => {
  spin(Number(req.params.ms));
  return `blocked ${req.params.ms}`;
});
// Keeps the loop busy for {ms} in 10 ms slices: high utilization, little delay.
router.get("/burn/{ms}", (req) => {
  const end = performance.now() + Number(req.params.ms);
  const slice = (): void => {
    spin(10);
    if (performance.now() < end) setImmediate(slice);
  };
  setImmediate(slice);
  return "burning";
});

const listener = await TcpListener.bind("127.0.0.1:0");
const server = Server.builder()
  .config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"))
  .build();
const handle = process.env.TAKO_PROTO === "h2c" ? server.spawnH2c(listener, router, { http1: true }) : server.spawnHttp(listener, router);
await runFixture(handle);
