// PROXY protocol suite on bun.
import { proxySuite } from "./_suite.ts";

proxySuite("bun");
