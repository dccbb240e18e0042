// Hono on Deno: Deno.serve(app.fetch) (it also answers h2c prior knowledge on its own).
import { serveDeno } from "./_deno.ts";
import { honoApp } from "./_hono.ts";

serveDeno(honoApp().fetch);
