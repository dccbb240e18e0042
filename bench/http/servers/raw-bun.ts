// Raw Bun.serve with hand-written dispatch on the URL pathname.
import { serveRawBun } from "./_raw-bun.ts";

serveRawBun();
