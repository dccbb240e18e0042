// The codec on Bun.listen raw TCP sockets in a Bun child process, as a Bun engine would host it:
// the same real clients, violation table and floods as on node:net.
import { startFixture } from "../_shared/spawn.ts";
import { clientsSuite, type Start } from "./_clients.ts";
import { violationsSuite } from "./_violations.ts";

const start: Start = async (options) => {
  const f = await startFixture("bun", "test/h2-codec/_bun-main.ts", { H2_LIMITS: JSON.stringify(options) });
  return { port: f.port, stop: () => f.stop() };
};

clientsSuite("Bun.listen", start);
violationsSuite("Bun.listen", start);
