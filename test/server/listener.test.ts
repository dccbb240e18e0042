// TcpListener.bind on every runtime: IPv4 and IPv6 with port 0, and a clear error naming the
// address for one in use, one not on this machine, and malformed ones.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { commandFor, RUNTIMES } from "../_shared/spawn.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

for (const runtime of RUNTIMES) {
  test(`TcpListener.bind on ${runtime}`, () => {
    const [cmd, args] = commandFor(runtime, fileURLToPath(new URL("./_bind.ts", import.meta.url)));
    const r = JSON.parse(execFileSync(cmd, args, { cwd: root, encoding: "utf8", timeout: 30_000 }).trim().split("\n").pop()!);
    assert.equal(r.v4.ok, true);
    assert.equal(r.v4.family, "IPv4");
    assert.ok(r.v4.port > 0);
    assert.equal(r.v6.ok, true, JSON.stringify(r.v6));
    assert.equal(r.v6.family, "IPv6");
    assert.equal(r.inUse.code, "TAKO_ERR_LISTEN");
    assert.match(r.inUse.message, /^cannot bind 127\.0\.0\.1:\d+: address already in use$/);
    assert.equal(r.notLocal.code, "TAKO_ERR_LISTEN");
    assert.match(r.notLocal.message, /^cannot bind 192\.0\.2\.1:0: /);
    for (const key of ["noPort", "badPort", "unbracketedV6", "empty"]) {
      assert.equal(r[key].code, "TAKO_ERR_ADDRESS", key);
    }
    assert.match(r.noPort.message, /invalid listen address "127\.0\.0\.1": expected host:port/);
    assert.match(r.badPort.message, /port 70000 is out of range 0\.\.65535/);
    assert.match(r.unbracketedV6.message, /write IPv6 addresses in brackets/);
  });
}
