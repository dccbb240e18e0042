// h2c on Bun.listen with tako's HTTP/2 codec (the Bun engine's h2c path), on the wire: what this
// path does itself that the shared h2 suites do not reach. A connection made between bind and
// spawnH2c is served; on a port with HTTP/1.1, the first bytes pick the codec (the preface in
// pieces, HTTP/1.1 after a partial preface); an h2c-only port answers other bytes with GOAWAY
// PROTOCOL_ERROR; req.conn and Host/cookie on HTTP/2; GOAWAY NO_ERROR at keepAliveTimeout and at
// the drain, read by a client that keeps writing (no TCP reset); the cap's refusal in the
// client's protocol. Over TLS, ALPN h2 goes to the same codec on Bun.listen: a connection made
// before spawnTls is served, req.conn carries the TLS facts, keepAliveTimeout ends it with
// GOAWAY. Raw sockets and node:http2, bounded waits.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { type ClientHttp2Session, connect as h2connect } from "node:http2";
import { describe, test } from "node:test";
import { testCerts } from "../_shared/certs.ts";
import { RawConn } from "../_shared/conn.ts";
import { ErrorCode, Flag, FrameType, H2RawConn, PREFACE, ping, request, settings } from "../_shared/h2-raw/index.ts";
import { startFixture, type Fixture } from "../_shared/spawn.ts";

const FIXTURE = "test/bun-engine/_h2-main.ts";
const start = (config: object, env: Record<string, string> = {}): Promise<Fixture> => startFixture("bun", FIXTURE, { TAKO_CONFIG: JSON.stringify(config), ...env });
const opts = { timeout: 30_000 };

/** Runs `body` against a fresh fixture, stopped afterwards. */
async function withFixture(config: object, env: Record<string, string>, body: (f: Fixture) => Promise<void>): Promise<void> {
  const f = await start(config, env);
  try {
    await body(f);
    assert.equal(f.child.exitCode, null, `fixture died; stderr:\n${f.stderr()}`);
  } finally {
    await f.stop();
  }
}

describe("h2c on Bun.listen (tako's HTTP/2 codec)", () => {
  test("a connection made between bind and spawnH2c is served once the server serves", opts, async () => {
    await withFixture({}, { TAKO_SPAWN_AFTER: "500" }, async (f) => {
      const conn = await H2RawConn.connect(f.port);
      conn.write(request(1, { path: "/sync" }));
      const res = await conn.response(1, 10_000);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), "sync");
      await f.waitForLine(/^SPAWNED$/, 1000);
      conn.close();
    });
  });

  test("req.conn on HTTP/2: httpVersion 2.0, the peer's address, Host from :authority, cookie crumbs joined with '; '", opts, async () => {
    await withFixture({}, {}, async (f) => {
      const conn = await H2RawConn.connect(f.port);
      conn.write(
        request(1, {
          path: "/conn",
          authority: "example.test:8443",
          headers: [
            ["cookie", "a=1"],
            ["cookie", "b=2"],
          ],
        }),
      );
      const res = await conn.response(1);
      assert.deepEqual(JSON.parse(res.body.toString()), {
        alpn: null,
        httpVersion: "2.0",
        remoteAddress: "127.0.0.1",
        localPort: f.port,
        host: "example.test:8443",
        cookie: "a=1; b=2",
      });
      conn.close();
    });
  });

  test("h2c-only: bytes that are not the client preface get SETTINGS and GOAWAY PROTOCOL_ERROR, then the close", opts, async () => {
    await withFixture({}, {}, async (f) => {
      const conn = await H2RawConn.connect(f.port, { sendPreface: false });
      conn.write(Buffer.from("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
      await conn.until(() => conn.goaways.length > 0, 5000, "GOAWAY");
      assert.equal(conn.goaways[0]?.errorCode, ErrorCode.PROTOCOL_ERROR, conn.summary());
      assert.ok(conn.serverSettings !== undefined, "the server's SETTINGS come first");
      await conn.closed;
    });
  });

  describe("HTTP/1.1 on the same port (http1: true): the first bytes choose", () => {
    test("a request is HTTP/1.1; a partial preface followed by other bytes is HTTP/1.1 (400)", opts, async () => {
      await withFixture({}, { TAKO_H2C_HTTP1: "1" }, async (f) => {
        const plain = await RawConn.open(f.port);
        plain.send("GET /conn HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        await plain.closed;
        const [answer] = await plain.responses(1, 0);
        assert.equal(answer?.status, 200);
        assert.equal(JSON.parse(answer!.body).httpVersion, "1.1");
        const partial = await RawConn.open(f.port);
        partial.send("PRI * HTTP/1.1\r\nHost: t\r\n\r\n");
        await partial.closed;
        assert.deepEqual(partial.statuses, [400], JSON.stringify(partial.text.slice(0, 200)));
      });
    });

    test("the preface sent one byte at a time is HTTP/2", opts, async () => {
      await withFixture({}, { TAKO_H2C_HTTP1: "1" }, async (f) => {
        const conn = await H2RawConn.connect(f.port, { sendPreface: false });
        // The last byte goes with SETTINGS: the client's SETTINGS must precede the ACK it sends to the server's.
        for (const b of PREFACE.subarray(0, 23)) {
          conn.write(Buffer.from([b]));
          await new Promise((r) => setTimeout(r, 5));
        }
        conn.write(Buffer.concat([PREFACE.subarray(23), settings(), request(1, { path: "/conn" })]));
        const res = await conn.response(1);
        assert.equal(JSON.parse(res.body.toString()).httpVersion, "2.0");
        conn.close();
      });
    });

    test("an HTTP/2 client whose preface trickles in is answered in HTTP/2", opts, async () => {
      await withFixture({}, { TAKO_H2C_HTTP1: "1" }, async (f) => {
        const conn = await H2RawConn.connect(f.port, { sendPreface: false });
        for (const piece of [PREFACE.subarray(0, 3), PREFACE.subarray(3, 17)]) {
          conn.write(piece);
          await new Promise((r) => setTimeout(r, 20));
        }
        conn.write(Buffer.concat([PREFACE.subarray(17), settings(), request(1, { path: "/conn" })]));
        const res = await conn.response(1);
        assert.equal(JSON.parse(res.body.toString()).httpVersion, "2.0");
        conn.close();
      });
    });
  });

  test("keepAliveTimeout: a connection with no open stream gets GOAWAY NO_ERROR, then the close", opts, async () => {
    await withFixture({ keepAliveTimeout: 1000 }, {}, async (f) => {
      const conn = await H2RawConn.connect(f.port);
      conn.write(request(1, { path: "/sync" }));
      await conn.response(1);
      const answered = Date.now();
      await conn.until(() => conn.goaways.length > 0, 5000, "GOAWAY at keepAliveTimeout");
      const ms = Date.now() - answered;
      assert.ok(ms >= 900 && ms < 3000, `GOAWAY ${ms} ms after the last response (keepAliveTimeout 1000)`);
      assert.deepEqual(conn.goaways[0], { lastStreamId: 1, errorCode: ErrorCode.NO_ERROR, debug: "" });
      const closed = await conn.closed;
      assert.equal(closed.hadError, false, "closed with a FIN, not a reset");
    });
  });

  test("a stream in flight holds the idle GOAWAY back; it comes once the stream is answered", opts, async () => {
    await withFixture({ keepAliveTimeout: 500 }, {}, async (f) => {
      const conn = await H2RawConn.connect(f.port);
      conn.write(request(1, { path: "/hold/1500" }));
      const res = await conn.response(1, 5000);
      assert.equal(res.status, 200);
      assert.equal(conn.goaways.length, 0, "no GOAWAY while the stream was open");
      await conn.until(() => conn.goaways.length > 0, 5000, "GOAWAY after the stream");
      await conn.closed;
    });
  });

  test("a client that never acknowledges the server's SETTINGS gets GOAWAY SETTINGS_TIMEOUT (10 s), though a stream is open", { timeout: 30_000 }, async () => {
    await withFixture({}, {}, async (f) => {
      const conn = await H2RawConn.connect(f.port, { autoAckSettings: false });
      const t0 = Date.now();
      conn.write(request(1, { path: "/hold/20000" }));
      await conn.until(() => conn.goaways.length > 0, 15_000, "GOAWAY");
      const after = Date.now() - t0;
      assert.equal(conn.goaways[0]?.errorCode, ErrorCode.SETTINGS_TIMEOUT, conn.summary());
      assert.ok(after >= 9_000, `GOAWAY after ${after} ms, before the 10 s timeout`);
      await conn.closed;
    });
  });

  test("drain: GOAWAY NO_ERROR reaches a client that keeps writing PINGs (the close does not reset it), the stream in flight completes", opts, async () => {
    await withFixture({}, {}, async (f) => {
      const conn = await H2RawConn.connect(f.port);
      conn.write(request(1, { path: "/hold/800" }));
      await new Promise((r) => setTimeout(r, 200));
      const pinger = setInterval(() => {
        if (!conn.isClosed) conn.write(ping(Buffer.from("stillhi!")));
      }, 5);
      f.child.kill("SIGTERM");
      try {
        await conn.until(() => conn.goaways.length > 0, 5000, "GOAWAY at the drain");
        assert.equal(conn.goaways[0]?.errorCode, ErrorCode.NO_ERROR);
        assert.equal(conn.goaways[0]?.lastStreamId, 1);
        const res = await conn.response(1, 5000);
        assert.equal(res.body.toString(), "held 800");
        await conn.closed;
      } finally {
        clearInterval(pinger);
      }
      assert.equal(conn.errors.length, 0, `no reset: ${conn.errors.map((e) => e.message).join(", ")}`);
      await f.waitForLine(/^STOPPED /, 5000);
    });
  });

  test("maxConnections on h2c only: the connection over the cap gets SETTINGS and GOAWAY NO_ERROR 'server at connection limit'", opts, async () => {
    await withFixture({ maxConnections: 1 }, {}, async (f) => {
      const first = await H2RawConn.connect(f.port);
      first.write(request(1, { path: "/sync" }));
      await first.response(1);
      const over = await H2RawConn.connect(f.port);
      await over.until(() => over.goaways.length > 0, 5000, "GOAWAY over the cap");
      assert.deepEqual(over.goaways[0], { lastStreamId: 0, errorCode: ErrorCode.NO_ERROR, debug: "server at connection limit" });
      assert.ok(over.frames.some((fr) => fr.type === FrameType.SETTINGS && (fr.flags & Flag.ACK) === 0));
      await over.closed;
      first.close();
    });
  });

  test("maxConnections with HTTP/1.1 on the port: the refusal is in the protocol the client opened with", opts, async () => {
    await withFixture({ maxConnections: 1 }, { TAKO_H2C_HTTP1: "1" }, async (f) => {
      const first = await H2RawConn.connect(f.port);
      first.write(request(1, { path: "/sync" }));
      await first.response(1);
      const h2 = await H2RawConn.connect(f.port);
      await h2.until(() => h2.goaways.length > 0, 5000, "GOAWAY over the cap");
      assert.equal(h2.goaways[0]?.debug, "server at connection limit");
      await h2.closed;
      const h1 = await RawConn.open(f.port);
      h1.send("GET /sync HTTP/1.1\r\nHost: t\r\n\r\n");
      await h1.closed;
      assert.deepEqual(h1.statuses, [503]);
      first.close();
    });
  });

  describe("h2 over TLS on Bun.listen (ALPN h2 → tako's HTTP/2 codec)", () => {
    /** A node:http2 session over TLS trusting the test CA. */
    function tlsSession(port: number): Promise<ClientHttp2Session> {
      const ca = readFileSync(testCerts().ca.cert);
      return new Promise((resolve, reject) => {
        const session = h2connect(`https://localhost:${port}`, { ca, host: "127.0.0.1", servername: "localhost" });
        session.once("connect", () => resolve(session));
        session.once("error", reject);
      });
    }
    function get(session: ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const stream = session.request({ ":path": path });
        let status = 0;
        let body = "";
        stream.on("response", (h) => (status = Number(h[":status"])));
        stream.setEncoding("utf8");
        stream.on("data", (d: string) => (body += d));
        stream.on("end", () => resolve({ status, body }));
        stream.on("error", reject);
      });
    }

    test("a connection (its ClientHello) made between bind and spawnTls is served over h2; req.conn has httpVersion 2.0 and ALPN h2", opts, async () => {
      await withFixture({}, { TAKO_TLS: "1", TAKO_SPAWN_AFTER: "500" }, async (f) => {
        const session = await tlsSession(f.port);
        try {
          assert.equal(session.alpnProtocol, "h2");
          const res = await get(session, "/conn");
          assert.equal(res.status, 200);
          const conn = JSON.parse(res.body);
          assert.equal(conn.httpVersion, "2.0");
          assert.equal(conn.alpn, "h2");
          assert.equal(conn.host, `localhost:${f.port}`);
          await f.waitForLine(/^SPAWNED$/, 1000);
        } finally {
          session.close();
        }
      });
    });

    test("keepAliveTimeout over TLS: GOAWAY NO_ERROR on an idle h2 connection, then the close", opts, async () => {
      await withFixture({ keepAliveTimeout: 1000 }, { TAKO_TLS: "1" }, async (f) => {
        const session = await tlsSession(f.port);
        const goaway = new Promise<number>((resolve) => session.once("goaway", (code: number) => resolve(code)));
        const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
        assert.equal((await get(session, "/sync")).body, "sync");
        const answered = Date.now();
        assert.equal(await goaway, 0);
        const ms = Date.now() - answered;
        assert.ok(ms >= 900 && ms < 3000, `GOAWAY ${ms} ms after the last response (keepAliveTimeout 1000)`);
        await closed;
      });
    });
  });
});
