// Uploads answered before they were read, on Deno (one path whatever fields are set).
import { uploadsSuite } from "./_suite.ts";

uploadsSuite("deno");
