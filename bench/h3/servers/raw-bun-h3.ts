// Raw Bun.serve over TLS with HTTP/2 and HTTP/3 (`http3: true`: QUIC on the UDP port of the same
// number), with the hand-written dispatch of the other raw baselines.
import { serveRawBun } from "../../http/servers/_raw-bun.ts";
import { pem } from "../../http/servers/_tls.ts";

serveRawBun({ tls: pem(), http2: true, http3: true });
