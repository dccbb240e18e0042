// Lifecycle on Bun: the native server with the defaults, and the node:net path that
// explicitly set connection fields select.
import { lifecycleSuite } from "./_suite.ts";

lifecycleSuite("bun", "native");
lifecycleSuite("bun", "socket");
