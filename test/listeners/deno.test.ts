// Every listener kind (Unix sockets, abstract names, fd adoption, systemd activation, reusePort) on deno.
import { listenersSuite } from "./_suite.ts";

listenersSuite("deno");
