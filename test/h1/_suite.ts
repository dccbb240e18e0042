// HTTP/1.1 on the wire: the contract app served with serve() under one runtime, sent raw bytes
// that no well-behaved client writes (malformed and hostile input, pipelining, HTTP/1.0, a slow
// client). What every client can ask lives in the contract suite (test/contract/); where a
// runtime's native parser answers differently, `expect` says so and the README coverage table
// carries the difference. Every wait is for an answer or a close, never for time to pass.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RawConn } from "../_shared/conn.ts";
import { http } from "../_shared/http-client.ts";
import { useFixture, type Runtime } from "../_shared/spawn.ts";

/** Sends `bytes` on a fresh connection and waits for `n` complete responses or the server's close. */
async function exchange(port: number, bytes: string, n = 1): Promise<RawConn> {
  const conn = await RawConn.open(port);
  conn.send(bytes);
  const complete = await conn.responses(n, 10_000);
  assert.ok(complete.length >= n || conn.isClosed, `neither ${n} response(s) nor a close: ${JSON.stringify(conn.text.slice(0, 300))}`);
  return conn;
}

/** Resolves once the server has closed `conn` (the test's own timeout bounds it). */
async function closedByServer(conn: RawConn): Promise<void> {
  await conn.closed;
}

export function h1WireSuite(runtime: Runtime): void {
  describe(`HTTP/1.1 bytes on the wire (${runtime})`, () => {
    const fx = useFixture(runtime, "test/h1/_main.ts");
    const host = "Host: t\r\n";
    const close = "Connection: close\r\n";
    const opts = { timeout: 20_000 };

    const cases: [name: string, bytes: string, expect: number[]][] = [
      ["malformed request line", "GARBAGE\r\n\r\n", [400]],
      // Bun's own parser (its node:http, kept for WebSocket routers) takes the rest for a version: 505.
      ["request target with a space", `GET /a b HTTP/1.1\r\n${host}\r\n`, [400]],
      ["obs-fold header", `GET / HTTP/1.1\r\n${host}X-A: a\r\n b\r\n\r\n`, [400]],
      ["oversized header (70 KB)", `GET / HTTP/1.1\r\n${host}X-Big: ${"a".repeat(70_000)}\r\n\r\n`, [431]],
      ["3000 headers", `GET / HTTP/1.1\r\n${host}${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join("")}\r\n`, [431]],
      ["invalid Content-Length", `POST /echo HTTP/1.1\r\n${host}Content-Length: abc\r\n\r\n`, [400]],
      ["negative Content-Length", `POST /echo HTTP/1.1\r\n${host}Content-Length: -1\r\n\r\n`, [400]],
      ["two different Content-Lengths", `POST /echo HTTP/1.1\r\n${host}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`, [400]],
      ["unknown Transfer-Encoding", `POST /echo HTTP/1.1\r\n${host}Transfer-Encoding: gzip\r\n\r\n`, [400]],
      ["body over the limit (declared)", `POST /echo-bytes HTTP/1.1\r\n${host}Content-Length: 2000000\r\n\r\n{`, [413]],
      ["handler throws", `GET /boom HTTP/1.1\r\n${host}${close}\r\n`, [500]],
      ["method the router does not implement", `PROPFIND / HTTP/1.1\r\n${host}${close}\r\n`, [501]],
    ];
    for (const [name, bytes, expect] of cases) {
      test(`${name} → ${expect.join(" or ")}, then the server closes with nothing after it`, opts, async () => {
        const conn = await exchange(fx.port, bytes);
        // Every one of these answers ends the connection: wait for the close, so that a second
        // answer written after the first (node:http's own 400 once tako answered) is seen.
        await closedByServer(conn);
        assert.deepEqual(conn.statuses, expect, `got: ${JSON.stringify(conn.text.slice(0, 300))}`);
        assert.doesNotMatch(conn.text, /secret|\n\s+at /);
        conn.destroy();
      });
    }

    test("a response header value with CR/LF is a 500; the injected line never reaches the wire", opts, async () => {
      const conn = await exchange(fx.port, `GET /bad-header HTTP/1.1\r\n${host}${close}\r\n`);
      assert.deepEqual(conn.statuses, [500]);
      assert.doesNotMatch(conn.text, /Injected/);
      conn.destroy();
    });

    test("Content-Length with Transfer-Encoding: 400, and the smuggled request is never served", opts, async () => {
      const conn = await RawConn.open(fx.port);
      conn.send(`POST /echo HTTP/1.1\r\n${host}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /boom HTTP/1.1\r\n${host}\r\n`);
      await closedByServer(conn);
      assert.deepEqual(conn.statuses, [400], "connection must be closed after a framing error, with one answer");
    });

    test("a 413 closes the connection instead of reading the rest of the upload", opts, async () => {
      const conn = await RawConn.open(fx.port);
      conn.send(`POST /echo-bytes HTTP/1.1\r\n${host}Content-Length: 2000000\r\n\r\n{`);
      await closedByServer(conn);
      assert.deepEqual(conn.statuses, [413]);
    });

    test("an unknown method token gets an error status or a closed connection, never a hang", opts, async () => {
      const conn = await RawConn.open(fx.port);
      conn.send(`FOOBAR / HTTP/1.1\r\n${host}\r\n`);
      // Node's llhttp and tako's codec (Bun, Deno) refuse it: 400.
      await closedByServer(conn);
      assert.deepEqual(conn.statuses, [400]);
    });

    test("pipelined requests are answered in order", opts, async () => {
      const conn = await exchange(fx.port, `GET /users/1 HTTP/1.1\r\n${host}\r\nGET /users/2 HTTP/1.1\r\n${host}\r\n`, 2);
      const answers = await conn.responses(2);
      assert.deepEqual(
        answers.map((a) => [a.status, a.body]),
        [
          [200, '{"id":"1"}'],
          [200, '{"id":"2"}'],
        ],
      );
      conn.destroy();
    });

    test("HTTP/1.0 is served and closed", opts, async () => {
      const conn = await RawConn.open(fx.port);
      conn.send("GET / HTTP/1.0\r\n\r\n");
      await closedByServer(conn);
      assert.deepEqual(conn.statuses, [200]);
      assert.ok(conn.text.endsWith("Hello, World!"), conn.text);
    });

    test("one slow client does not delay others", opts, async () => {
      // A client trickling its request head one byte at a time (on purpose: that is the slow
      // client), holding back the last byte until the others have been answered.
      const head = `GET /users/slow HTTP/1.1\r\n${host}\r\n`;
      const slow = await RawConn.open(fx.port);
      let sent = 0;
      const trickle = (async () => {
        while (sent < head.length - 1 && !slow.isClosed) {
          slow.send(head[sent++]!);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      slow.send(head[sent++]!);
      const answers = await Promise.all(Array.from({ length: 10 }, () => http(fx.port, "/")));
      for (const a of answers) assert.equal(a.text, "Hello, World!");
      assert.equal(slow.statuses.length, 0, "the slow client's request is not complete, so not answered");
      assert.equal(slow.isClosed, false);
      await trickle;
      slow.send(head.slice(sent));
      const [answer] = await slow.responses(1);
      assert.equal(answer?.status, 200);
      assert.equal(answer?.body, '{"id":"slow"}');
      slow.destroy();
    });

    test("the server still answers after all of the above", opts, async () => {
      assert.equal((await http(fx.port, "/")).text, "Hello, World!");
    });
  });
}
