// WebSocket routes on Bun's Bun.listen path (tako's HTTP/1.1 codec hands an accepted upgrade to
// `ws`): a router with WebSocket routes no longer moves the port, so connections made between
// bind and spawn* are served (a move would close them), both an ordinary request and an upgrade
// whose first frame came in the same packet as its head; the same on the HTTP/1.1 side of
// spawnH2c. The "no refused window" check for such a router is in bun.test.ts (TAKO_PROTO=ws).
// The WebSocket behaviour itself is test/websocket/bun.test.ts. Raw sockets, bounded waits.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RawConn } from "../_shared/conn.ts";
import { startFixture, type Fixture } from "../_shared/spawn.ts";
import { frame } from "../websocket/_frames.ts";

const FIXTURE = "test/bun-engine/_ws-main.ts";
const opts = { timeout: 30_000 };

const UPGRADE = "GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

async function withFixture(env: Record<string, string>, body: (f: Fixture) => Promise<void>): Promise<void> {
  const f = await startFixture("bun", FIXTURE, env);
  try {
    await body(f);
    assert.equal(f.child.exitCode, null, `fixture died; stderr:\n${f.stderr()}`);
  } finally {
    await f.stop();
  }
}

/** Connects before the spawn: an upgrade with a text frame right behind its head, and a plain GET; both answered once the server serves. */
async function earlyConnections(f: Fixture): Promise<void> {
  const ws = await RawConn.open(f.port);
  const plain = await RawConn.open(f.port);
  try {
    ws.socket.write(Buffer.concat([Buffer.from(UPGRADE, "latin1"), frame(1, Buffer.from("early"))]));
    plain.get("/plain");
    // 101, then the echo as an unmasked text frame: 0x81, length 5, "early".
    assert.ok(await ws.waitFor(/^HTTP\/1\.1 101 [\s\S]*\r\n\r\n[\s\S]{2}early$/, 10_000), `got ${JSON.stringify(ws.text.slice(0, 300))}`);
    assert.equal(ws.text.slice(-7), "\x81\x05early");
    assert.ok(await plain.waitFor(/\r\n\r\nplain$/, 10_000), `got ${JSON.stringify(plain.text.slice(0, 300))}`);
    await f.waitForLine(/^SPAWNED$/, 1000);
    // The socket is still a WebSocket after the spawn: one more echo.
    ws.socket.write(frame(1, Buffer.from("late")));
    assert.ok(await ws.waitFor(/late$/, 5000), `got ${JSON.stringify(ws.text.slice(-50))}`);
    assert.equal(ws.text.slice(-6), "\x81\x04late");
  } finally {
    ws.destroy();
    plain.destroy();
  }
}

describe("WebSocket routes on Bun.listen (no move to node:http)", () => {
  test("spawnHttp: connections made between bind and spawn are served, an upgrade and its first frame included", opts, async () => {
    await withFixture({ TAKO_SPAWN_AFTER: "500" }, earlyConnections);
  });

  test("spawnH2c with HTTP/1.1: the same on the HTTP/1.1 side", opts, async () => {
    await withFixture({ TAKO_SPAWN_AFTER: "500", TAKO_H2C_HTTP1: "1" }, earlyConnections);
  });

  test("an upgrade pipelined behind a request waits for that response: the answer, then 101, then frames", opts, async () => {
    await withFixture({}, async (f) => {
      const conn = await RawConn.open(f.port);
      try {
        conn.socket.write(Buffer.concat([Buffer.from(`GET /plain HTTP/1.1\r\nHost: t\r\n\r\n${UPGRADE}`, "latin1"), frame(1, Buffer.from("after"))]));
        assert.ok(await conn.waitFor(/after$/, 10_000), `got ${JSON.stringify(conn.text.slice(0, 400))}`);
        const plainAt = conn.text.indexOf("\r\n\r\nplain");
        const switchAt = conn.text.indexOf("HTTP/1.1 101 ");
        assert.ok(plainAt > 0 && switchAt > plainAt, `order: ${JSON.stringify(conn.text.slice(0, 400))}`);
        assert.equal(conn.text.slice(-7), "\x81\x05after");
      } finally {
        conn.destroy();
      }
    });
  });

  test("a handshake that carries a body is answered 400 and the connection closes; the server keeps serving", opts, async () => {
    await withFixture({}, async (f) => {
      const conn = await RawConn.open(f.port);
      try {
        conn.socket.write(UPGRADE.replace("\r\n\r\n", "\r\nContent-Length: 5\r\n\r\nhello"));
        await conn.closed;
        assert.match(conn.text, /^HTTP\/1\.1 400 /, conn.text.slice(0, 200));
        assert.doesNotMatch(conn.text, / 101 /);
      } finally {
        conn.destroy();
      }
      const next = await RawConn.open(f.port);
      try {
        next.get("/plain");
        assert.ok(await next.waitFor(/\r\n\r\nplain$/, 5000), next.text);
      } finally {
        next.destroy();
      }
    });
  });
});
