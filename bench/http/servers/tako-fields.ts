// tako over HTTP/1.1 with every connection field of ServerConfig set explicitly, at its default
// value (the bench shows what setting them costs). Not on Bun: acceptBackoff, which Bun cannot
// honour (it retries a failing accept itself) and which spawn* refuses there when set.
import { Server } from "../../../src/index.ts";
import { serveTako } from "./_tako.ts";

await serveTako((listener, router) =>
  Server.builder()
    .config({
      headerReadTimeout: 30_000,
      keepAlive: true,
      keepAliveTimeout: 5_000,
      maxConnections: 10_000,
      ...("Bun" in globalThis ? {} : { acceptBackoff: { initial: 5, max: 1_000 } }),
      bodyReadTimeout: 20_000,
      bodyMinRate: 500,
      drainTimeout: 30_000,
    })
    .build()
    .spawnHttp(listener, router),
);
