// PROXY protocol on the wire: headers written by a raw client, then an HTTP/1.1, h2c or TLS
// request on the same connection (also in the same packet, and trickled byte by byte); bad
// input; the read deadline. Every runtime; all targets are 127.0.0.1.
import assert from "node:assert/strict";
import { connect as h2connect } from "node:http2";
import { Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { describe, test } from "node:test";
import { testCerts } from "../_shared/certs.ts";
import { PREFACE, request, settings, H2RawConn } from "../_shared/h2-raw/index.ts";
import { v1, v2 } from "../_shared/proxy-header.ts";
import { RawConn } from "../_shared/conn.ts";
import { useFixture, type Fixture, type Runtime } from "../_shared/spawn.ts";

const SPOOF: [string, string][] = [
  ["x-forwarded-for", "6.6.6.6"],
  ["forwarded", "for=6.6.6.6"],
];

interface Answer {
  status: number;
  body: string;
  closedWithoutAnswer: boolean;
}

/**
 * Opens a connection, writes `chunks` (each its own write, `gapMs` apart: a deliberate trickle),
 * and reads until the server closes it. Every request here ends the connection (Connection:
 * close, or bad input); a server that never closes fails with a clear message after `timeoutMs`.
 */
function exchange(port: number, chunks: Buffer[], gapMs = 0, timeoutMs = 10_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const s = new Socket();
    let got = "";
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the server did not close the connection in ${timeoutMs} ms; got ${JSON.stringify(got.slice(0, 200))}`));
    }, timeoutMs);
    s.on("data", (d: Buffer) => (got += d.toString("latin1")));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.1 (\d{3})[\s\S]*?\r\n\r\n([\s\S]*)$/.exec(got);
      resolve({ status: m === null ? 0 : Number(m[1]), body: m?.[2] ?? "", closedWithoutAnswer: got === "" });
    });
    s.connect(port, "127.0.0.1", async () => {
      for (const chunk of chunks) {
        if (s.destroyed) break;
        s.write(chunk);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

const httpRequest = (path = "/proxy/seen", close = true): Buffer =>
  Buffer.from(`GET ${path} HTTP/1.1\r\nHost: t\r\n${SPOOF.map(([n, v]) => `${n}: ${v}\r\n`).join("")}${close ? "Connection: close\r\n" : ""}\r\n`, "latin1");

/** TLS over a raw connection that first carries `header` (corked with the ClientHello). */
function tlsOver(port: number, header: Buffer, alpn: string[]): Promise<TLSSocket> {
  const certs = testCerts();
  return new Promise((resolve, reject) => {
    const raw = new Socket();
    raw.connect(port, "127.0.0.1", () => {
      raw.cork();
      raw.write(header);
      const secure = tlsConnect({ socket: raw, servername: "localhost", ca: certs.read(certs.ca.cert), ALPNProtocols: alpn });
      process.nextTick(() => raw.uncork());
      secure.once("secureConnect", () => resolve(secure));
      secure.once("error", reject);
    });
    raw.once("error", reject);
  });
}

export function proxySuite(runtime: Runtime): void {
  const fixture = (env: Record<string, string>): { readonly f: Fixture; readonly port: number } => useFixture(runtime, "test/proxy/_main.ts", env);

  describe(`PROXY protocol over HTTP/1.1, required (${runtime})`, () => {
    const fx = fixture({ TAKO_TRANSPORT: "http", TAKO_CONFIG: JSON.stringify({ proxyReadTimeout: 1000, maxConnections: 4 }) });

    test("v1 and the request in the same packet: the client's address, Forwarded set, spoofed headers gone", async () => {
      const r = await exchange(fx.port, [Buffer.concat([v1("198.51.100.9", "192.0.2.1", 51000, 80), httpRequest()])]);
      assert.equal(r.status, 200, JSON.stringify(r));
      const seen = JSON.parse(r.body);
      assert.equal(seen.remoteAddress, "198.51.100.9");
      assert.equal(seen.remotePort, 51000);
      assert.equal(seen.proxy.version, 1);
      assert.equal(seen.forwarded, "for=198.51.100.9");
      assert.equal(seen.headersForwarded, "for=198.51.100.9");
      assert.equal(seen.xForwardedFor, null);
      assert.equal(seen.headersXff, null);
    });

    test("v2 over IPv6 with TLVs (ALPN, authority, unique id, CRC32C), trickled one byte at a time", async () => {
      const header = v2({
        src: "2001:db8::7",
        dst: "2001:db8::1",
        sport: 4711,
        dport: 80,
        tlvs: [
          [0x01, Buffer.from("http/1.1")],
          [0x02, Buffer.from("example.com")],
          [0x05, Buffer.from([1, 2, 3])],
        ],
        crc: "good",
      });
      const bytes = [...Buffer.concat([header, httpRequest()])].map((b) => Buffer.from([b]));
      const r = await exchange(fx.port, bytes, 1, 20_000);
      assert.equal(r.status, 200, JSON.stringify(r));
      const seen = JSON.parse(r.body);
      assert.equal(seen.remoteAddress, "2001:db8::7");
      assert.equal(seen.remotePort, 4711);
      assert.deepEqual([seen.proxy.alpn, seen.proxy.authority, seen.proxy.uniqueId, seen.proxy.crc32cVerified], ["http/1.1", "example.com", "010203", true]);
      assert.equal(seen.forwarded, 'for="[2001:db8::7]"');
    });

    test("LOCAL (a health check from the balancer): the socket's own address", async () => {
      const r = await exchange(fx.port, [Buffer.concat([v2({ command: "LOCAL" }), httpRequest()])]);
      assert.equal(r.status, 200);
      const seen = JSON.parse(r.body);
      assert.equal(seen.remoteAddress, "127.0.0.1");
      assert.equal(seen.proxy.command, "LOCAL");
      assert.equal(seen.forwarded, null, "no client address to forward");
    });

    const bad: [string, Buffer[]][] = [
      ["no header at all", [httpRequest()]],
      ["wrong v2 signature", [Buffer.concat([Buffer.from("\r\n\r\n\0\r\nQUIX\n"), Buffer.alloc(4), httpRequest()])]],
      [
        "oversized v2 length",
        [
          (() => {
            const h = v2();
            h.writeUInt16BE(0xffff, 14);
            return h;
          })(),
        ],
      ],
      ["bad CRC32C", [Buffer.concat([v2({ crc: "bad" }), httpRequest()])]],
      ["unknown version", [Buffer.concat([v2({ version: 3 }), httpRequest()])]],
      ["v1 with a bad address", [Buffer.concat([Buffer.from("PROXY TCP4 999.1.1.1 192.0.2.1 1 2\r\n"), httpRequest()])]],
      ["v1 with a port out of range", [Buffer.concat([Buffer.from("PROXY TCP4 1.2.3.4 192.0.2.1 99999 80\r\n"), httpRequest()])]],
      ["v1 garbage", [Buffer.from("PROXY garbage and more garbage\r\n")]],
      ["a truncated header, then the client leaves", [v2().subarray(0, 20)]],
    ];
    for (const [name, chunks] of bad) {
      test(`bad input closes that connection only: ${name}`, async () => {
        const r = await exchange(fx.port, chunks);
        assert.equal(r.closedWithoutAnswer, true, `got ${JSON.stringify(r)}`);
        const good = await exchange(fx.port, [Buffer.concat([v1("198.51.100.1", "192.0.2.1", 1, 80), httpRequest("/")])]);
        assert.equal(good.body, "Hello, World!");
      });
    }

    test("clients that reset in the middle of a header do not take the server down", async () => {
      for (let i = 0; i < 10; i++) {
        await new Promise<void>((resolve) => {
          const s = new Socket();
          s.on("error", () => resolve());
          s.connect(fx.port, "127.0.0.1", () => {
            s.write(v2().subarray(0, 10 + i));
            // On purpose: the reset lands after the server has read part of the header.
            setTimeout(() => {
              s.resetAndDestroy();
              resolve();
            }, 20);
          });
        });
      }
      const good = await exchange(fx.port, [Buffer.concat([v1("198.51.100.1", "192.0.2.1", 1, 80), httpRequest("/")])]);
      assert.equal(good.body, "Hello, World!");
    });

    test("proxyReadTimeout closes a connection without a complete header and frees its slot", { timeout: 30_000 }, async () => {
      const sockets = await Promise.all(
        Array.from({ length: 4 }, () => {
          const s = new Socket();
          const closed = new Promise<number>((resolve) => s.once("close", () => resolve(Date.now())));
          s.on("error", () => {});
          return new Promise<{ closed: Promise<number>; at: number; s: Socket }>((resolve) => s.connect(fx.port, "127.0.0.1", () => resolve({ closed, at: Date.now(), s })));
        }),
      );
      sockets[0]!.s.write(Buffer.from("PROXY TCP4 1.2.3.4")); // half a header
      const over = await exchange(fx.port, [Buffer.concat([v1("198.51.100.1", "192.0.2.1", 1, 80), httpRequest("/")])]);
      assert.equal(over.status, 503, "the cap is full while the headers are awaited");
      for (const { closed, at } of sockets) {
        const ms = (await closed) - at;
        // Not before the deadline (1000 ms, less timer slack); that it comes at all is the test's timeout.
        assert.ok(ms >= 800, `closed after ${ms} ms (proxyReadTimeout 1000 ms)`);
      }
      // The server sees the closes a moment later: retry (bounded) until a request is served.
      let good: Answer = { status: 0, body: "", closedWithoutAnswer: true };
      for (let attempt = 0; attempt < 100 && good.body !== "Hello, World!"; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 50));
        good = await exchange(fx.port, [Buffer.concat([v1("198.51.100.1", "192.0.2.1", 1, 80), httpRequest("/")])]);
      }
      assert.equal(good.body, "Hello, World!", `slots are free again; last answer ${JSON.stringify(good)}`);
    });
  });

  describe(`PROXY protocol optional, CRC flagged (${runtime})`, () => {
    const fx = fixture({ TAKO_TRANSPORT: "http", TAKO_PROXY: "optional", TAKO_BAD_CRC: "flag" });
    test("a direct client is served as itself; a proxied one as the header says", async () => {
      const direct = JSON.parse((await exchange(fx.port, [httpRequest()])).body);
      assert.equal(direct.remoteAddress, "127.0.0.1");
      assert.equal(direct.proxy, null);
      assert.equal(direct.xForwardedFor, "6.6.6.6", "without a header nothing is rewritten");
      const proxied = JSON.parse((await exchange(fx.port, [Buffer.concat([v1("198.51.100.2", "192.0.2.1", 2, 80), httpRequest()])])).body);
      assert.equal(proxied.remoteAddress, "198.51.100.2");
    });
    test("a kept-alive connection serves requests in turn, with and without a header, never announced as closing", async () => {
      // Deno used to serve this mode on its node:net path, where Deno's node:http destroyed every
      // connection after its response while announcing keep-alive; it runs on Deno.listen now.
      for (const header of [Buffer.alloc(0), v1("198.51.100.2", "192.0.2.1", 2, 80)]) {
        const conn = await RawConn.open(fx.port);
        try {
          conn.send(Buffer.concat([header, httpRequest("/proxy/seen", false)]).toString("latin1"));
          for (let i = 1; i <= 3; i++) {
            if (i > 1) conn.send(httpRequest("/proxy/seen", false).toString("latin1"));
            const got = await conn.responses(i);
            assert.equal(got.length, i, `response ${i} on one connection (header: ${header.length > 0})`);
            assert.equal(got[i - 1]!.status, 200);
            assert.ok(!got[i - 1]!.headers.some(([n, v]) => n === "connection" && /close/i.test(v)), "not announced as closing");
            assert.equal(JSON.parse(got[i - 1]!.body).remoteAddress, header.length > 0 ? "198.51.100.2" : "127.0.0.1");
          }
        } finally {
          conn.destroy();
        }
      }
    });

    test('onBadCrc: "flag" serves a header with a wrong CRC32C and says so', async () => {
      const seen = JSON.parse((await exchange(fx.port, [Buffer.concat([v2({ crc: "bad" }), httpRequest()])])).body);
      assert.equal(seen.proxy.crc32cVerified, false);
      assert.equal(seen.remoteAddress, "203.0.113.7");
    });
  });

  if (runtime !== "node") {
    describe(`PROXY protocol, optional mode, on spawnH2c(…, { http1: true }) (${runtime}: tako's codecs on the raw socket)`, () => {
      const fx = fixture({ TAKO_TRANSPORT: "h2c", TAKO_H2C_HTTP1: "1", TAKO_PROXY: "optional" });
      test("HTTP/1.1 and h2c, each with and without a header: the proxied client, or the peer", async () => {
        const h1 = JSON.parse((await exchange(fx.port, [Buffer.concat([v1("198.51.100.21", "192.0.2.1", 2121, 80), httpRequest()])])).body);
        assert.deepEqual([h1.httpVersion, h1.remoteAddress, h1.remotePort], ["1.1", "198.51.100.21", 2121]);
        const plain = JSON.parse((await exchange(fx.port, [httpRequest()])).body);
        assert.deepEqual([plain.httpVersion, plain.remoteAddress, plain.proxy], ["1.1", "127.0.0.1", null]);
        const proxied = await H2RawConn.connect(fx.port, { sendPreface: false });
        proxied.write(Buffer.concat([v2({ src: "203.0.113.22", sport: 2222 }), PREFACE, settings(), request(1, { path: "/proxy/seen" })]));
        const h2 = JSON.parse((await proxied.response(1)).body.toString());
        assert.deepEqual([h2.httpVersion, h2.remoteAddress, h2.remotePort], ["2.0", "203.0.113.22", 2222]);
        proxied.close();
        const direct = await H2RawConn.connect(fx.port);
        direct.write(request(1, { path: "/proxy/seen" }));
        const d = JSON.parse((await direct.response(1)).body.toString());
        assert.deepEqual([d.httpVersion, d.remoteAddress, d.proxy], ["2.0", "127.0.0.1", null]);
        direct.close();
      });
    });
  }
  describe(`PROXY protocol, optional mode, over h2c (${runtime})`, () => {
    const fx = fixture({ TAKO_TRANSPORT: "h2c", TAKO_PROXY: "optional" });
    test("with a v1 header the handler sees the proxied client; without one, the peer", async () => {
      const proxied = await H2RawConn.connect(fx.port, { sendPreface: false });
      proxied.write(Buffer.concat([v1("198.51.100.8", "192.0.2.1", 4321, 80), PREFACE, settings(), request(1, { path: "/proxy/seen" })]));
      const a = JSON.parse((await proxied.response(1)).body.toString());
      assert.equal(a.httpVersion, "2.0");
      assert.equal(a.remoteAddress, "198.51.100.8");
      assert.equal(a.remotePort, 4321);
      proxied.close();
      const direct = await H2RawConn.connect(fx.port);
      direct.write(request(1, { path: "/proxy/seen" }));
      const b = JSON.parse((await direct.response(1)).body.toString());
      assert.equal(b.remoteAddress, "127.0.0.1");
      assert.equal(b.proxy, null);
      direct.close();
    });
  });
  describe(`PROXY protocol over h2c (${runtime})`, () => {
    const fx = fixture({ TAKO_TRANSPORT: "h2c" });
    test("v2 header, preface and request in one packet", async () => {
      const conn = await H2RawConn.connect(fx.port, { sendPreface: false });
      conn.write(Buffer.concat([v2({ src: "203.0.113.9", sport: 1234 }), PREFACE, settings(), request(1, { path: "/proxy/seen", headers: SPOOF })]));
      const res = await conn.response(1);
      assert.equal(res.status, 200);
      const seen = JSON.parse(res.body.toString());
      assert.equal(seen.httpVersion, "2.0");
      assert.equal(seen.remoteAddress, "203.0.113.9");
      assert.equal(seen.remotePort, 1234);
      assert.equal(seen.forwarded, "for=203.0.113.9");
      assert.equal(seen.headersXff, null);
      conn.close();
    });
  });

  describe(`PROXY protocol over TLS (${runtime})`, () => {
    const fx = fixture({ TAKO_TRANSPORT: "tls" });
    test("the header precedes the ClientHello (same packet); HTTP/1.1 over TLS sees the client", async () => {
      const secure = await tlsOver(fx.port, v1("198.51.100.3", "192.0.2.1", 3333, 443), ["http/1.1"]);
      const text = await new Promise<string>((resolve) => {
        let t = "";
        secure.setEncoding("utf8");
        secure.on("data", (c: string) => (t += c));
        secure.on("close", () => resolve(t));
        secure.on("error", () => {});
        secure.write(httpRequest().toString("latin1"));
      });
      const seen = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
      assert.equal(seen.remoteAddress, "198.51.100.3");
      assert.equal(seen.remotePort, 3333);
      assert.equal(seen.tls.alpnProtocol, "http/1.1");
    });

    test("h2 over TLS after a v2 header", async () => {
      const secure = await tlsOver(fx.port, v2({ src: "203.0.113.10", sport: 10 }), ["h2", "http/1.1"]);
      assert.equal(secure.alpnProtocol, "h2");
      const session = h2connect("https://localhost", { createConnection: () => secure });
      // A reset after the answer (the server ending the connection once the session closes) is
      // not this test's subject; unheard, it would surface after the test as an uncaught error.
      session.on("error", () => {});
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ":path": "/proxy/seen" });
        let t = "";
        stream.setEncoding("utf8");
        stream.on("data", (c: string) => (t += c));
        stream.on("end", () => resolve(t));
        stream.on("error", reject);
      });
      session.close();
      const seen = JSON.parse(body);
      assert.equal(seen.httpVersion, "2.0");
      assert.equal(seen.remoteAddress, "203.0.113.10");
    });
  });
}
