// Raw Deno.serve with hand-written dispatch on the URL pathname.
import { serveDeno } from "./_deno.ts";
import { rawFetch } from "./_raw-fetch.ts";

serveDeno(rawFetch);
