import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startCodecServer } from "../../test/h2-codec/_server.ts";
const run = promisify(execFile);
const s = await startCodecServer();
try { const r = await run("curl", ["-sS", "-v", "--http2-prior-knowledge", `http://127.0.0.1:${s.port}/`]); console.log(r.stdout, r.stderr.slice(-600)); } catch (e) { console.log(String(e)); }
const r = await run("h2load", ["-n", "20000", "-c", "4", "-m", "10", `http://127.0.0.1:${s.port}/`]); console.log(r.stdout.slice(-900));
console.log(s.errors);
await s.close();
