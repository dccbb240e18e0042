// Entry the conformance suite starts under each runtime: binds 127.0.0.1:0, reports the port.
import { serve, TcpListener } from "../../src/index.ts";
import { fixtureApp } from "../contract/_app.ts";

const listener = await TcpListener.bind("127.0.0.1:0");
console.log(`READY ${listener.localAddr().port}`);
await serve(listener, fixtureApp());
