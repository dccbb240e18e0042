// tako over cleartext HTTP/2 (h2c, prior knowledge; `serveH2c`): the same routes as tako.ts, and
// the same file runs on Node (tsx), Bun and Deno.
import { serveH2c } from "../../../src/index.ts";
import { serveTako } from "./_tako.ts";

await serveTako(serveH2c);
