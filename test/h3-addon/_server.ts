// HTTP/3 fixture for the addon engine (Node.js and Deno): the contract app over spawnH3 at
// 127.0.0.1:0, plus routes for drain and streaming tests. TAKO_CONFIG: JSON config. Prints
// "READY <port>"; SIGTERM drains it ("STOPPED <ms>").
import { Server, TlsCert } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { runFixture } from "../_shared/fixture-main.ts";
import { fixtureApp } from "../contract/_app.ts";

const certs = testCerts();
const router = fixtureApp();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
router.get("/slow/{ms}", async (req) => {
  console.log(`SLOW ${req.params.ms}`);
  await sleep(Number(req.params.ms));
  return "slow done";
});
// 1 MiB in 16 chunks of 64 KiB, each chunk's bytes its index.
router.get("/big-stream", () =>
  (async function* () {
    for (let i = 0; i < 16; i++) yield new Uint8Array(64 * 1024).fill(i);
  })(),
);
router.get("/fail-stream", () =>
  (async function* () {
    yield "partial\n";
    await sleep(20);
    throw new Error("the source failed");
  })(),
);
router.get("/signal", async (req) => {
  await sleep(100);
  return { aborted: req.signal.aborted };
});

const handle = await Server.builder()
  .config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"))
  .tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key))
  .build()
  .spawnH3("127.0.0.1:0", router);
await runFixture(handle);
