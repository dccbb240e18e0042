// Lifecycle on Deno: one path (Deno's own HTTP server on each accepted connection, under tako's
// deadlines, cap and drain) whatever fields are set; the fields' own tests run here too.
import { lifecycleSuite } from "./_suite.ts";

lifecycleSuite("deno");
