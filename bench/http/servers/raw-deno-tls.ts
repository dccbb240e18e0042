// Raw Deno.serve over TLS (`cert` and `key` as PEM text; ALPN h2 and http/1.1, so the same file
// serves the HTTPS/1.1 and the HTTP/2-over-TLS benches), with the hand-written dispatch of the
// HTTP/1.1 baseline (raw-deno.ts).
import { serveDeno } from "./_deno.ts";
import { rawFetch } from "./_raw-fetch.ts";
import { pem } from "./_tls.ts";

serveDeno(rawFetch, pem());
