// The codec on node:net sockets in the test process: real clients, the violation table, floods.
import { clientsSuite, type Start } from "./_clients.ts";
import { startCodecServer } from "./_server.ts";
import { violationsSuite } from "./_violations.ts";

const start: Start = async (options) => {
  const s = await startCodecServer(options);
  return { port: s.port, stop: () => s.close() };
};

clientsSuite("node:net", start);
violationsSuite("node:net", start);
