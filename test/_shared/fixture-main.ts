// The tail every server fixture shares: SIGINT/SIGTERM drain it, it prints "READY <port>" once
// it accepts, then "STOPPED <ms>" (time from the signal to the end of the drain) and exits 0.
import { shutdownOnSignals, type ServerHandle } from "../../src/index.ts";

export async function runFixture(handle: ServerHandle): Promise<never> {
  let signalledAt = 0;
  await shutdownOnSignals(handle);
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => (signalledAt = Date.now()));
  await handle.ready();
  console.log(`READY ${handle.localAddr().port}`);
  await handle.join();
  console.log(`STOPPED ${Date.now() - signalledAt}`);
  process.exit(0);
}
