// Load shedding on deno.
import { overloadSuite } from "./_suite.ts";

overloadSuite("deno");
