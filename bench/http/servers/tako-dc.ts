// tako over HTTP/1.1 with a diagnostics_channel subscriber on the request tracing channel (what an
// APM agent does): every request is traced (start, end, asyncEnd messages); the subscriber only
// counts. Compare with tako.ts (no subscriber) for the cost of the channel itself.
import dc from "node:diagnostics_channel";
import { CHANNELS, Server } from "../../../src/index.ts";
import { serveTako } from "./_tako.ts";

let requests = 0;
dc.tracingChannel(CHANNELS.request).subscribe({
  start: () => {},
  end: () => {},
  asyncStart: () => {},
  asyncEnd: () => requests++,
  error: () => {},
});
await serveTako((listener, router) => Server.builder().build().spawnHttp(listener, router));
void requests;
