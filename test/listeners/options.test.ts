// Listener options are checked before anything is bound, with the code and the field in the
// error (in process on Node; the checks are the facade's, the same on every runtime).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TakoError, TcpListener, UnixListener } from "../../src/index.ts";

async function code(attempt: () => Promise<unknown>): Promise<string> {
  try {
    await attempt();
  } catch (error) {
    assert.ok(error instanceof TakoError, String(error));
    return `${error.code}: ${error.message}`;
  }
  return "no error";
}

test("UnixListener.bind refuses bad paths and modes naming them", async () => {
  assert.match(await code(() => UnixListener.bind("")), /^TAKO_ERR_ADDRESS: invalid unix socket path ""/);
  assert.match(await code(() => UnixListener.bind("@")), /^TAKO_ERR_ADDRESS/);
  assert.match(await code(() => UnixListener.bind("/tmp/a\0b")), /^TAKO_ERR_ADDRESS/);
  assert.match(await code(() => UnixListener.bind(`/tmp/${"x".repeat(120)}.sock`)), /^TAKO_ERR_ADDRESS: .*longer than 107 bytes/);
  assert.match(await code(() => UnixListener.bind("/tmp/m.sock", { mode: 0o1777 })), /^TAKO_ERR_CONFIG: mode must be permission bits/);
  assert.match(await code(() => UnixListener.bind("/tmp/m.sock", { mode: 1.5 })), /^TAKO_ERR_CONFIG: mode/);
  assert.match(await code(() => UnixListener.bind("@tako-mode", { mode: 0o600 })), /^TAKO_ERR_CONFIG: mode is for socket files; the abstract name @tako-mode has none/);
});

test("UnixListener.bind in a directory that does not exist: TAKO_ERR_LISTEN naming the path", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tako-opt-"));
  try {
    const path = join(dir, "missing", "a.sock");
    assert.equal(await code(() => UnixListener.bind(path)), `TAKO_ERR_LISTEN: cannot bind unix socket ${path}: no such directory`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("TcpListener.bind refuses a reusePort that is not a boolean; fromFd a descriptor that is not a number", async () => {
  assert.match(await code(() => TcpListener.bind("127.0.0.1:0", { reusePort: "yes" as unknown as boolean })), /^TAKO_ERR_CONFIG: reusePort must be true or false/);
  assert.match(await code(() => TcpListener.fromFd(-1)), /^TAKO_ERR_LISTEN: fromFd expects a descriptor number/);
  assert.match(await code(() => UnixListener.fromFd(Number.NaN)), /^TAKO_ERR_LISTEN: fromFd expects a descriptor number/);
});
