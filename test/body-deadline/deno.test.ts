// The body deadline on the wire, on deno.
import { bodyDeadlineSuite } from "./_suite.ts";

bodyDeadlineSuite("deno");
