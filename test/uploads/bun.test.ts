// Uploads answered before they were read, on Bun: HTTP/1.1 on Bun's node:http with the defaults,
// and the node:net path that an explicit acceptBackoff selects; both close lingering.
import { uploadsSuite } from "./_suite.ts";

uploadsSuite("bun", "native");
uploadsSuite("bun", "socket");
