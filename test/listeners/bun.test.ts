// Every listener kind (Unix sockets, abstract names, fd adoption, systemd activation, reusePort) on bun.
import { listenersSuite } from "./_suite.ts";

listenersSuite("bun");
