// Every listener kind (Unix sockets, abstract names, fd adoption, systemd activation, reusePort) on node.
import { listenersSuite } from "./_suite.ts";

listenersSuite("node");
