// Lifecycle on Bun: HTTP/1.1 on Bun's node:http with the defaults, and the node:net path that
// an explicitly set acceptBackoff selects.
import { lifecycleSuite } from "./_suite.ts";

lifecycleSuite("bun", "native");
lifecycleSuite("bun", "socket");
