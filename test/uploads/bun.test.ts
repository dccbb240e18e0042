// Uploads answered before they were read, on Bun: HTTP/1.1 on Bun.listen with tako's codec (Bun's
// one HTTP/1.1 path); it closes lingering.
import { uploadsSuite } from "./_suite.ts";

uploadsSuite("bun");
