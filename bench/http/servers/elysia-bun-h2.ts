// Elysia on Bun over cleartext HTTP/2 (Bun.serve's `http2: true`).
import { serveElysia } from "./_elysia.ts";

serveElysia({ http2: true });
