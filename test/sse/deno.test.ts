// Server-Sent Events on the wire, on deno.
import { sseSuite } from "./_suite.ts";

sseSuite("deno");
