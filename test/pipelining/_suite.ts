// Pipelining on the wire: valid requests followed, in the same packet, by a malformed one. The
// valid ones are answered first, in order, then the error status, then the connection closes.
// node:http used to write its 400 at once and destroy the connection, losing the answer to a
// request whose (async) handler was still running. Raw sockets, one write per case.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RawConn } from "../_shared/conn.ts";
import { startFixture, useFixture, type Runtime } from "../_shared/spawn.ts";

/** The fixture's environment with `config`. */
function fixtureEnv(config: object): Record<string, string> {
  return { TAKO_CONFIG: JSON.stringify(config) };
}
const host = "Host: t\r\n";
/** In flight for 50 ms on purpose: the malformed request after it is parsed meanwhile. */
const ASYNC = `GET /async/50 HTTP/1.1\r\n${host}\r\n`;
const GARBAGE = "GARBAGE\r\n\r\n";

/** Sends `bytes` in one write and returns the statuses and bodies answered until the server closes. */
async function exchange(port: number, bytes: string): Promise<{ statuses: number[]; bodies: string[]; text: string }> {
  const conn = await RawConn.open(port);
  conn.send(bytes);
  await conn.closed;
  const answers = await conn.responses(Number.MAX_SAFE_INTEGER, 0);
  return { statuses: conn.statuses, bodies: answers.map((a) => a.body), text: conn.text };
}

export function pipeliningSuite(runtime: Runtime): void {
  const label = `${runtime}, ${runtime === "node" ? "node:http" : `${runtime === "bun" ? "Bun.listen" : "Deno.listen"} + codec`}`;
  const env = fixtureEnv({});

  describe(`a malformed request pipelined after valid ones (${label})`, () => {
    const fx = useFixture(runtime, "test/pipelining/_main.ts", env);
    const opts = { timeout: 20_000 };

    /**
     * What is answered, in order, for [valid requests…, malformed one]: every valid request, then
     * the error status (Node's node:http, tako's codec on Bun.listen and Deno.listen).
     */
    const cases: [name: string, bytes: string, valid: string[], expected: number[]][] = [
      ["an async GET, then garbage", `${ASYNC}${GARBAGE}`, ["async 50"], [200, 400]],
      ["a sync GET, then garbage", `GET /sync HTTP/1.1\r\n${host}\r\n${GARBAGE}`, ["sync"], [200, 400]],
      ["two async GETs, then garbage", `${ASYNC}GET /async/10 HTTP/1.1\r\n${host}\r\n${GARBAGE}`, ["async 50", "async 10"], [200, 200, 400]],
      ["an async GET, then an invalid Content-Length", `${ASYNC}POST /x HTTP/1.1\r\n${host}Content-Length: abc\r\n\r\n`, ["async 50"], [200, 400]],
      ["an async GET, then an oversized head (70 KB)", `${ASYNC}GET /sync HTTP/1.1\r\n${host}X-Big: ${"a".repeat(70_000)}\r\n\r\n`, ["async 50"], [200, 431]],
      ["garbage alone", GARBAGE, [], [400]],
    ];
    for (const [name, bytes, valid, expected] of cases) {
      test(`${name} → ${expected.join(", ") || "nothing"}, then closed`, opts, async () => {
        const { statuses, bodies, text } = await exchange(fx.port, bytes);
        assert.deepEqual(statuses, expected, `answered: ${JSON.stringify(text.slice(0, 400))}`);
        // The answers to the valid requests are complete, and in request order.
        const ok = bodies.filter((_, i) => statuses[i] === 200);
        assert.deepEqual(ok, valid.slice(0, ok.length), "the valid requests' answers, in order");
        // Every valid request is answered.
        assert.equal(ok.length, valid.length);
      });
    }

    // A handler in flight longer than headerReadTimeout with garbage pipelined behind it. Node's
    // node:http parses on and cuts the connection at the bound, the answer lost. tako's codec on
    // Bun and Deno parses nothing past the request in flight until its answer is out (reading
    // paused), and no HTTP deadline runs while a handler works (`handlerTimeout` bounds that):
    // the answer goes out, then 400 for the garbage, then the close.
    test(
      runtime === "node"
        ? "node:http: the wait for an in-flight answer is bounded by headerReadTimeout: past it, the connection is closed"
        : "tako's codec: an answer in flight past headerReadTimeout is sent, then 400 for the garbage behind it, then close",
      opts,
      async () => {
        const f = await startFixture(runtime, "test/pipelining/_main.ts", fixtureEnv({ headerReadTimeout: 500 }));
        try {
          const conn = await RawConn.open(f.port);
          const sentAt = Date.now();
          const ms = runtime === "node" ? 10_000 : 1_500;
          conn.send(`GET /async/${ms} HTTP/1.1\r\n${host}\r\n${GARBAGE}`);
          const closedAt = await conn.closed;
          if (runtime === "node") {
            assert.deepEqual(conn.statuses, []);
            // Not before the bound (less timer slack).
            assert.ok(closedAt - sentAt >= 400, `closed ${closedAt - sentAt} ms after the request`);
          } else {
            assert.deepEqual(conn.statuses, [200, 400], conn.text.slice(0, 300));
            assert.ok(closedAt - sentAt >= ms - 100, `closed ${closedAt - sentAt} ms after the request, before the answer was due`);
          }
        } finally {
          await f.stop();
        }
      },
    );

    test("the server still answers", opts, async () => {
      const { statuses } = await exchange(fx.port, `GET /sync HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
      assert.deepEqual(statuses, [200]);
    });
  });
}
