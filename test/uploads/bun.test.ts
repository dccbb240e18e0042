// Uploads answered before they were read, on Bun: the native server with the defaults (recorded),
// and the node:net path that an explicit maxConnections selects.
import { uploadsSuite } from "./_suite.ts";

uploadsSuite("bun", "native");
uploadsSuite("bun", "socket");
