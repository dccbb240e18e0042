// Entry the HTTP/1.1 wire suite starts under each runtime: the contract app on serve(), bound to
// 127.0.0.1:0, reporting the port.
import { serve, TcpListener } from "../../src/index.ts";
import { fixtureApp } from "../contract/_app.ts";

const listener = await TcpListener.bind("127.0.0.1:0");
console.log(`READY ${listener.localAddr().port}`);
await serve(listener, fixtureApp());
