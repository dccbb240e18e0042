// Elysia on Bun with its defaults.
import { serveElysia } from "./_elysia.ts";

serveElysia();
