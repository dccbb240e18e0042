// Uploads answered before they were read, on Node.js.
import { uploadsSuite } from "./_suite.ts";

uploadsSuite("node");
