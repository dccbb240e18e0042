// tako over cleartext HTTP/2 (h2c, prior knowledge; what `serveH2c` runs): the same routes as
// tako.ts, and the same file runs on Node (tsx), Bun and Deno.
import { Server } from "../../../src/index.ts";
import { serveTako } from "./_tako.ts";

await serveTako((listener, router) => Server.builder().build().spawnH2c(listener, router));
