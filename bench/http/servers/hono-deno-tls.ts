// Hono on Deno over TLS: Deno.serve with the certificate (ALPN h2 and http/1.1, so one file for
// the HTTPS/1.1 and the HTTP/2-over-TLS benches).
import { serveDeno } from "./_deno.ts";
import { honoApp } from "./_hono.ts";
import { pem } from "./_tls.ts";

serveDeno(honoApp().fetch, pem());
