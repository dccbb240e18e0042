// tako over HTTP/1.1 (`serve`): the same file runs on Node (tsx), Bun and Deno.
import { serve } from "../../../src/index.ts";
import { serveTako } from "./_tako.ts";

await serveTako(serve);
