// Elysia on Bun over TLS (HTTPS/1.1).
import { serveElysia } from "./_elysia.ts";
import { pem } from "./_tls.ts";

serveElysia({ tls: pem() });
