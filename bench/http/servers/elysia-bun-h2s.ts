// Elysia on Bun over TLS with HTTP/2 (ALPN h2; Bun.serve's `http2: true`).
import { serveElysia } from "./_elysia.ts";
import { pem } from "./_tls.ts";

serveElysia({ tls: pem(), http2: true });
