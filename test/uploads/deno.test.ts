// Uploads answered before they were read, on Deno: the native server with the defaults (recorded),
// and the node:net path that an explicit maxConnections selects.
import { uploadsSuite } from "./_suite.ts";

uploadsSuite("deno", "native");
uploadsSuite("deno", "socket");
