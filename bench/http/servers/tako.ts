// tako over HTTP/1.1 (what `serve` runs): the same file runs on Node (tsx), Bun and Deno.
import { Server } from "../../../src/index.ts";
import { serveTako } from "./_tako.ts";

await serveTako((listener, router) => Server.builder().build().spawnHttp(listener, router));
