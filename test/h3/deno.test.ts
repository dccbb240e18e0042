// The shared HTTP/3 conformance suite (test/h3/_suite.ts) on Deno, served with the optional @currentspace/http3 addon.
import { h3Suite } from "./_suite.ts";
h3Suite("deno");
