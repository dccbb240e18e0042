// Runs TcpListener.bind through its success and error cases on the current runtime and prints
// one JSON line with what happened (the listener test runs it under each runtime).
import { TakoError, TcpListener } from "../../src/index.ts";

async function attempt(addr: string): Promise<{ ok: true; family: string; port: number } | { ok: false; code: string; message: string }> {
  try {
    const listener = await TcpListener.bind(addr);
    const { family, port } = listener.localAddr();
    await listener.close();
    return { ok: true, family, port };
  } catch (error) {
    return { ok: false, code: error instanceof TakoError ? error.code : String(error), message: (error as Error).message };
  }
}

const taken = await TcpListener.bind("127.0.0.1:0");
const takenPort = taken.localAddr().port;
const results = {
  v4: await attempt("127.0.0.1:0"),
  v6: await attempt("[::1]:0"),
  inUse: await attempt(`127.0.0.1:${takenPort}`),
  notLocal: await attempt("192.0.2.1:0"),
  noPort: await attempt("127.0.0.1"),
  badPort: await attempt("127.0.0.1:70000"),
  unbracketedV6: await attempt("::1:80"),
  empty: await attempt(":80"),
};
await taken.close();
console.log(JSON.stringify(results));
process.exit(0);
