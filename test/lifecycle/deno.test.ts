// Lifecycle on Deno: the native server with the defaults, and the node:net path that
// explicitly set connection fields select.
import { lifecycleSuite } from "./_suite.ts";

lifecycleSuite("deno", "native");
lifecycleSuite("deno", "socket");
