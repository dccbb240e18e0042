// PROXY protocol suite on deno.
import { proxySuite } from "./_suite.ts";

proxySuite("deno");
