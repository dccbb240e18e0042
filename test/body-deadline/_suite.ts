// The body deadline (`bodyReadTimeout` + one second per `bodyMinRate` bytes, counted while the
// server waits for body bytes) on the wire: a body trickled below the rate is answered 408 and
// its connection closed, on each body reader, Content-Length and chunked, HTTP/1.1 and h2c; an
// upload at an honest rate that takes longer than the base timeout completes; time a handler
// spends before it asks for the body does not count. Short deadlines keep the suite fast; the
// defaults (20 s, 500 B/s) are the same code with other numbers (test/core/body-deadline.test.ts).
import assert from "node:assert/strict";
import { connect as h2connect } from "node:http2";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { testCerts } from "../_shared/certs.ts";
import { describe, test } from "node:test";
import { RawConn } from "../_shared/conn.ts";
import { useFixture, type Runtime } from "../_shared/spawn.ts";

/** 1 s, plus 1 s per 200 bytes. */
const CONFIG = { bodyReadTimeout: 1000, bodyMinRate: 200 };

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

/** Sends `head`, then one byte of body every `everyMs` until the connection closes (or `max` bytes). */
function trickle(conn: RawConn, head: string, everyMs: number, max: number, chunked: boolean): () => void {
  conn.send(head);
  let sent = 0;
  const timer = setInterval(() => {
    if (conn.isClosed || sent >= max) return clearInterval(timer);
    conn.send(chunked ? "1\r\nx\r\n" : "x");
    sent++;
  }, everyMs);
  return () => clearInterval(timer);
}

export function bodyDeadlineSuite(runtime: Runtime): void {
  describe(`body deadline on HTTP/1.1 (${runtime})`, () => {
    const fx = useFixture(runtime, "test/body-deadline/_main.ts", { TAKO_CONFIG: JSON.stringify(CONFIG) });

    for (const [route, chunked] of [
      ["/bytes", false],
      ["/bytes", true],
      ["/text", false],
      ["/stream", false],
      ["/stream", true],
    ] as const) {
      test(`a body trickled at 10 B/s to ${route} (${chunked ? "chunked" : "Content-Length"}) gets 408 and the connection closes`, { timeout: 20_000 }, async () => {
        const conn = await RawConn.open(fx.port);
        const framing = chunked ? "transfer-encoding: chunked" : "content-length: 10000";
        const started = Date.now();
        const stop = trickle(conn, `POST ${route} HTTP/1.1\r\nhost: t\r\n${framing}\r\n\r\n`, 100, 10_000, chunked);
        try {
          const closedAt = await within(conn.closed, 10_000, "close after the body deadline");
          // 1 s plus ~10 bytes at 200 B/s: about 1.05 s; never before the base timeout.
          assert.ok(closedAt - started >= 900, `closed after ${closedAt - started} ms`);
          assert.deepEqual(conn.statuses, [408], conn.text);
          assert.match(conn.text, /connection: close/i);
        } finally {
          stop();
          conn.destroy();
        }
      });
    }

    test("an upload at an honest rate (1,000 B/s for 3 s, past the 1 s base) completes", { timeout: 20_000 }, async () => {
      const conn = await RawConn.open(fx.port);
      conn.send("POST /bytes HTTP/1.1\r\nhost: t\r\ncontent-length: 3000\r\n\r\n");
      let sent = 0;
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          conn.send("y".repeat(100));
          sent += 100;
          if (sent >= 3000) {
            clearInterval(timer);
            resolve();
          }
        }, 100);
      });
      const [res] = await conn.responses(1, 5000);
      conn.destroy();
      assert.equal(res?.status, 200, conn.text);
      assert.equal(res?.body, '{"bytes":3000}');
    });

    test("time a handler spends before it reads the body does not count", { timeout: 20_000 }, async () => {
      const conn = await RawConn.open(fx.port);
      conn.send("POST /late/1500 HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\n\r\nhello");
      const [res] = await conn.responses(1, 5000);
      conn.destroy();
      assert.equal(res?.status, 200, conn.text);
      assert.equal(res?.body, '{"bytes":5}');
    });

    test("a body nobody reads does not keep its connection: answered, then closed while the client still trickles", { timeout: 20_000 }, async () => {
      const conn = await RawConn.open(fx.port);
      const stop = trickle(conn, "POST /ignore HTTP/1.1\r\nhost: t\r\ncontent-length: 10000\r\n\r\n", 100, 10_000, false);
      try {
        await within(conn.closed, 10_000, "close of a connection whose body nobody reads");
        assert.deepEqual(conn.statuses, [200], conn.text);
      } finally {
        stop();
      }
    });

    test("other connections are served while slow bodies are cut", { timeout: 20_000 }, async () => {
      const slow = await Promise.all(Array.from({ length: 20 }, () => RawConn.open(fx.port)));
      const stops = slow.map((c) => trickle(c, "POST /stream HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n", 200, 10_000, true));
      try {
        const res = await fetch(`${fx.f.url}/`);
        assert.equal(await res.text(), "ok");
        const closed = await within(Promise.all(slow.map((c) => c.closed)), 10_000, "every slow body cut");
        assert.equal(closed.length, 20);
        assert.ok(slow.every((c) => c.statuses[0] === 408));
      } finally {
        for (const stop of stops) stop();
      }
    });
  });

  describe(`body deadline on h2c (${runtime})`, () => {
    const fx = useFixture(runtime, "test/body-deadline/_main.ts", { TAKO_CONFIG: JSON.stringify(CONFIG), TAKO_H2C: "1" });

    test("a stream whose body trickles gets 408; the connection's other streams are served", { timeout: 20_000 }, async () => {
      const session = h2connect(`http://127.0.0.1:${fx.port}`);
      session.on("error", () => {});
      try {
        const stream = session.request({ ":method": "POST", ":path": "/stream" }, { endStream: false });
        stream.on("error", () => {});
        const status = new Promise<number>((resolve) => stream.once("response", (h) => resolve(Number(h[":status"]))));
        const timer = setInterval(() => (stream.writable ? stream.write("x") : clearInterval(timer)), 100);
        const started = Date.now();
        try {
          assert.equal(await within(status, 10_000, "408 on the slow stream"), 408);
          assert.ok(Date.now() - started >= 900, `answered after ${Date.now() - started} ms`);
        } finally {
          clearInterval(timer);
        }
        const other = session.request({ ":path": "/" });
        let body = "";
        other.setEncoding("utf8").on("data", (d: string) => (body += d));
        await within(new Promise((r) => other.once("end", r)), 5000, "another stream");
        assert.equal(body, "ok");
      } finally {
        session.destroy();
      }
    });
  });
  describe(`body deadline over TLS (${runtime})`, () => {
    const fx = useFixture(runtime, "test/body-deadline/_main.ts", { TAKO_CONFIG: JSON.stringify(CONFIG), TAKO_TLS: "1" });
    const ca = (): string => {
      const certs = testCerts();
      return certs.read(certs.ca.cert);
    };

    test("HTTPS/1.1: a body trickled at 10 B/s gets 408 and the connection closes", { timeout: 20_000 }, async () => {
      const socket: TLSSocket = tlsConnect({ host: "127.0.0.1", port: fx.port, servername: "localhost", ca: ca(), ALPNProtocols: ["http/1.1"] });
      socket.on("error", () => {});
      await new Promise((resolve) => socket.once("secureConnect", resolve));
      let text = "";
      socket.setEncoding("latin1").on("data", (d: string) => (text += d));
      const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
      socket.write("POST /stream HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n");
      const started = Date.now();
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write("1\r\nx\r\n")), 100);
      try {
        const closedAt = await within(closed, 10_000, "close after the body deadline");
        assert.ok(closedAt - started >= 900, `closed after ${closedAt - started} ms`);
        assert.match(text, /^HTTP\/1\.1 408 /, text);
      } finally {
        clearInterval(timer);
        socket.destroy();
      }
    });

    test("h2 over TLS: a stream whose body trickles gets 408", { timeout: 20_000 }, async () => {
      const session = h2connect(`https://localhost:${fx.port}`, { ca: ca(), host: "127.0.0.1" } as never);
      session.on("error", () => {});
      try {
        const stream = session.request({ ":method": "POST", ":path": "/stream" }, { endStream: false });
        stream.on("error", () => {});
        const status = new Promise<number>((resolve) => stream.once("response", (h) => resolve(Number(h[":status"]))));
        const timer = setInterval(() => (stream.writable ? stream.write("x") : clearInterval(timer)), 100);
        try {
          assert.equal(await within(status, 10_000, "408 on the slow stream"), 408);
        } finally {
          clearInterval(timer);
        }
      } finally {
        session.destroy();
      }
    });
  });
}
