// WebSocket routes on the wire, with the `ws` client and a raw-socket client for protocol
// violations: echo (text, binary, fragmented, 1 MiB), maxPayload (1009), 401 from middleware
// and 403 for a foreign origin before the upgrade, subprotocols, permessage-deflate, idle
// ping/pong, backpressure with a slow reader, bad frames (1002/1007) while another client keeps
// working, the drain (1001 seen by the client, then the process ends), the connection cap,
// wss over the http/1.1 ALPN with a client certificate, the PROXY protocol in front, and the
// HTTP/1.1 side of spawnH2c. On each runtime (issue 13).
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { connect as h2connect } from "node:http2";
import { connect as netConnect } from "node:net";
import { describe, test } from "node:test";
import { WebSocket, type ClientOptions } from "ws";
import { testCerts } from "../_shared/certs.ts";
import { RawConn } from "../_shared/conn.ts";
import { v1 } from "../_shared/proxy-header.ts";
import { type Runtime, startFixture, useFixture } from "../_shared/spawn.ts";
import { frame, rawWs } from "./_frames.ts";

const FIXTURE = "test/websocket/_main.ts";

interface Msg {
  data: Buffer;
  binary: boolean;
}
/** Messages received and not yet taken by {@link next}, per client (a server may send in `open`, before a test listens). */
const inbox = new WeakMap<WebSocket, { queue: Msg[]; waiting: ((m: Msg) => void) | null }>();

/** Opens a client; rejects with the HTTP status when the server answers without upgrading. */
function open(url: string, opts: ClientOptions & { protocols?: string[] } = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts.protocols ?? [], opts);
    const box = { queue: [] as Msg[], waiting: null as ((m: Msg) => void) | null };
    inbox.set(ws, box);
    ws.on("message", (data: Buffer, binary: boolean) => {
      const w = box.waiting;
      box.waiting = null;
      if (w !== null) w({ data, binary });
      else box.queue.push({ data, binary });
    });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res: IncomingMessage) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** The status and body of an upgrade the server refused. */
function refused(url: string, opts: ClientOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    ws.once("open", () => reject(new Error("upgraded")));
    ws.once("error", () => {});
    ws.once("unexpected-response", (_req, res: IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
}

function next(ws: WebSocket, timeoutMs = 5000): Promise<Msg> {
  const box = inbox.get(ws)!;
  const queued = box.queue.shift();
  if (queued !== undefined) return Promise.resolve(queued);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no message in ${timeoutMs} ms`)), timeoutMs);
    box.waiting = (m) => {
      clearTimeout(t);
      resolve(m);
    };
  });
}

function closed(ws: WebSocket, timeoutMs = 5000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) return reject(new Error("already closed"));
    const t = setTimeout(() => reject(new Error(`not closed in ${timeoutMs} ms`)), timeoutMs);
    ws.once("error", () => {});
    ws.once("close", (code: number, reason: Buffer) => {
      clearTimeout(t);
      resolve({ code, reason: reason.toString() });
    });
  });
}

async function echoes(url: string, text: string): Promise<void> {
  const ws = await open(url);
  ws.send(text);
  assert.equal((await next(ws)).data.toString(), text);
  ws.close();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function wsSuite(runtime: Runtime): void {
  describe(`${runtime}: WebSocket over HTTP/1.1 (spawnHttp)`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_WS: "h1" });
    const url = (path: string): string => `ws://127.0.0.1:${fx.port}${path}`;

    test("echo: text, binary, a fragmented message, 1 MiB", async () => {
      const ws = await open(url("/echo"));
      ws.send("héllo");
      let m = await next(ws);
      assert.equal(m.binary, false);
      assert.equal(m.data.toString(), "héllo");
      ws.send(Buffer.from([0, 1, 2, 255]));
      m = await next(ws);
      assert.equal(m.binary, true);
      assert.deepEqual([...m.data], [0, 1, 2, 255]);
      ws.send("frag-", { fin: false });
      ws.send("ment", { fin: true });
      assert.equal((await next(ws)).data.toString(), "frag-ment");
      const big = Buffer.alloc(1024 * 1024, 0x61);
      ws.send(big);
      m = await next(ws, 10_000);
      assert.equal(m.data.length, big.length);
      assert.ok(m.data.equals(big));
      ws.close(1000, "bye");
      assert.equal((await closed(ws)).code, 1000);
      assert.match((await fx.f.waitForLine(/^CLOSED \/echo (\d+)$/)).input, /CLOSED \/echo 1000/);
    });

    test("a message over maxPayload closes 1009", async () => {
      const ws = await open(url("/small"));
      ws.send("x".repeat(1000));
      assert.equal((await next(ws)).data.length, 1000);
      ws.send("x".repeat(2000));
      assert.equal((await closed(ws)).code, 1009);
    });

    test("middleware answers 401 before the upgrade; with the token the socket opens", async () => {
      assert.deepEqual(await refused(url("/private")), { status: 401, body: "no token" });
      const ws = await open(url("/private"), { headers: { authorization: "Bearer good" } });
      assert.equal((await next(ws)).data.toString(), "secret");
      ws.close();
    });

    test("allowedOrigins: a foreign origin gets 403, the allowed one and none open", async () => {
      assert.equal((await refused(url("/origin"), { origin: "https://evil.example" })).status, 403);
      for (const origin of ["https://good.example", undefined]) {
        const ws = await open(url("/origin"), origin === undefined ? {} : { origin });
        assert.equal((await next(ws)).data.toString(), "welcome");
        ws.close();
      }
    });

    test("subprotocols: the server's first preference the client offers", async () => {
      const ws = await open(url("/proto"), { protocols: ["v1.chat", "v2.chat"] });
      assert.equal(ws.protocol, "v2.chat");
      assert.equal((await next(ws)).data.toString(), "protocol=v2.chat");
      ws.close();
      const none = await open(url("/proto"));
      assert.equal((await next(none)).data.toString(), "protocol=");
      none.close();
      // None in common: the server opens without one, and a client that required one gives up.
      const error = await open(url("/proto"), { protocols: ["v9.chat"] }).then(
        () => null,
        (e: Error) => e,
      );
      assert.match(String(error), /no subprotocol/);
    });

    test("no upgrade: 426 on a WebSocket route, and ordinary routes still answer", async () => {
      const res = await fetch(`http://127.0.0.1:${fx.port}/echo`);
      assert.equal(res.status, 426);
      assert.equal(res.headers.get("upgrade"), "websocket");
      assert.equal(await (await fetch(`http://127.0.0.1:${fx.port}/plain`)).text(), "plain");
      // A WebSocket handshake to an ordinary route is answered by it, then the connection ends.
      assert.equal((await refused(url("/plain"))).status, 200);
      assert.equal((await refused(url("/nowhere"))).status, 404);
    });

    test("a WebSocket router keeps HTTP/1.1 connections alive: requests in turn on one connection, then an upgrade on it", async () => {
      const conn = await RawConn.open(fx.port);
      try {
        for (let i = 1; i <= 3; i++) {
          conn.get("/plain");
          const got = await conn.responses(i);
          assert.equal(got.length, i, `response ${i} on the same connection`);
          assert.equal(got[i - 1]!.body, "plain");
          assert.ok(!got[i - 1]!.headers.some(([n, v]) => n === "connection" && /close/i.test(v)), "not announced as closing");
        }
        assert.equal(conn.isClosed, false);
        conn.send(`GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
        assert.ok(await conn.waitFor(/HTTP\/1\.1 101 [\s\S]*\r\n\r\n$/), `101 after three requests: ${conn.text.slice(-200)}`);
      } finally {
        conn.destroy();
      }
    });

    test("permessage-deflate is negotiated where asked, off elsewhere", async () => {
      const ws = await open(url("/deflate"), { perMessageDeflate: true });
      assert.match(ws.extensions, /permessage-deflate/);
      const text = "compress me ".repeat(200);
      ws.send(text);
      assert.equal((await next(ws)).data.toString(), text);
      ws.close();
      // A small compressed message that inflates past maxPayload (1 MiB) is refused as it inflates.
      const bomb = await open(url("/deflate"), { perMessageDeflate: true });
      bomb.send(Buffer.alloc(2 * 1024 * 1024));
      assert.equal((await closed(bomb)).code, 1009);
      const plain = await open(url("/echo"), { perMessageDeflate: true });
      assert.equal(plain.extensions, "");
      plain.close();
    });

    test("open sees params, query and connection facts", async () => {
      const ws = await open(url("/info/lobby?q=7"));
      const info = JSON.parse((await next(ws)).data.toString());
      assert.equal(info.room, "lobby");
      assert.equal(info.query, "7");
      assert.equal(info.remoteAddress, "127.0.0.1");
      assert.equal(info.alpn, null);
      assert.equal(info.proxy, null);
      ws.close();
    });

    test("idle: a peer that answers pings stays; one that does not is cut", async () => {
      const live = await open(url("/idle"));
      let pings = 0;
      live.on("ping", () => pings++);
      const dead = await open(url("/idle"), { autoPong: false });
      let deadPings = 0;
      dead.on("ping", () => deadPings++);
      const cut = await closed(dead, 3000);
      assert.equal(cut.code, 1006); // terminated: no closing handshake with a dead peer
      assert.ok(deadPings >= 1, "the silent peer was pinged before the cut");
      await sleep(700);
      assert.equal(live.readyState, WebSocket.OPEN);
      assert.ok(pings >= 2, `the live peer was pinged (${pings})`);
      live.close();
    });

    test("an open socket outlives the HTTP head and keep-alive deadlines (1 s here)", async () => {
      const ws = await open(url("/echo"));
      await sleep(1600);
      ws.send("still here");
      assert.equal((await next(ws)).data.toString(), "still here");
      ws.close();
    });

    test("the router's HTTP connections keep their deadlines (1 s here): a silent one gets 408, an idle kept-alive one is closed", async () => {
      const silent = await RawConn.open(fx.port);
      const kept = await RawConn.open(fx.port);
      try {
        kept.get("/plain");
        assert.equal((await kept.responses(1))[0]?.body, "plain");
        const [silentAt, keptAt] = await Promise.all([silent.closed, kept.closed].map((c) => Promise.race([c, sleep(5000).then(() => -1)])));
        assert.notEqual(silentAt, -1, "a connection that sent nothing was still open after 5 s");
        assert.notEqual(keptAt, -1, "an idle kept-alive connection was still open after 5 s");
        assert.match(silent.text, /^HTTP\/1\.1 408 /);
      } finally {
        silent.destroy();
        kept.destroy();
      }
    });

    test("backpressure: send() says stop with a slow reader, drain() follows", async () => {
      const ws = await open(url("/flood"));
      const socket = (ws as unknown as { _socket: import("node:net").Socket })._socket;
      socket.pause(); // a reader that does not read
      const texts: string[] = [];
      let bytes = 0;
      ws.on("message", (d: Buffer) => {
        if (d.length < 200) texts.push(d.toString());
        else bytes += d.length;
      });
      ws.send("flood");
      await sleep(300);
      socket.resume();
      for (let i = 0; i < 100 && !texts.includes("drained"); i++) await sleep(50);
      const stopped = texts.find((t) => t.startsWith("stopped after "));
      assert.ok(stopped !== undefined, `got ${texts.join(",")}`);
      const n = Number(/stopped after (\d+)/.exec(stopped)![1]);
      assert.ok(n < 10_000, `send() returned false before the cap of the loop (after ${n})`);
      assert.ok(texts.includes("drained"), "drain handler ran");
      assert.equal(bytes, n * 64 * 1024, "every chunk sent before the report arrived, in order");
      ws.close();
    });

    test("ws.req.signal aborts (TAKO_ERR_CLIENT_GONE) when the socket closes", async () => {
      const ws = await open(url("/signal"));
      ws.close();
      await fx.f.waitForLine(/^ABORTED \/signal TAKO_ERR_CLIENT_GONE$/, 5000);
    });

    test("a throwing handler closes its socket 1011; the process serves on", async () => {
      const ws = await open(url("/throws"));
      ws.send("boom");
      assert.equal((await closed(ws)).code, 1011);
      await echoes(url("/echo"), "after the throw");
    });

    const violations: [string, (b: Buffer) => Buffer, number][] = [
      ["an unmasked client frame", () => frame(1, Buffer.from("hi"), { mask: false }), 1002],
      ["a reserved opcode", () => frame(3, Buffer.from("hi")), 1002],
      ["invalid UTF-8 in a text frame", () => frame(1, Buffer.from([0xc3, 0x28])), 1007],
      ["a control frame over 125 bytes", () => frame(9, Buffer.alloc(126, 1)), 1002],
      ["a continuation with no message started", () => frame(0, Buffer.from("hi")), 1002],
      ["a new message inside a fragmented one", () => Buffer.concat([frame(1, Buffer.from("a"), { fin: false }), frame(1, Buffer.from("b"))]), 1002],
    ];
    for (const [name, bytes, code] of violations) {
      test(`protocol violation: ${name} closes ${code}, another client unaffected`, async () => {
        const other = await open(url("/echo"));
        const raw = await rawWs(fx.port, "/echo");
        raw.socket.write(bytes(Buffer.alloc(0)));
        assert.equal(await raw.closeCode(), code);
        other.send("fine");
        assert.equal((await next(other)).data.toString(), "fine");
        other.close();
        raw.socket.destroy();
      });
    }
  });

  describe(`${runtime}: WebSocket drain`, () => {
    test("trigger: every socket gets 1001, an upgrade finishing its middleware then gets 503, the process ends once they are closed", async () => {
      const f = await startFixture(runtime, FIXTURE, { TAKO_WS: "h1", TAKO_WS_DRAIN: "10000" });
      try {
        const a = await open(`ws://127.0.0.1:${f.port}/echo`);
        const b = await open(`ws://127.0.0.1:${f.port}/info/x`);
        await next(b);
        const [ca, cb] = [closed(a), closed(b)];
        const late = refused(`ws://127.0.0.1:${f.port}/slow`); // in its 500 ms middleware at the signal
        await sleep(150);
        f.child.kill("SIGTERM");
        assert.equal((await late).status, 503, "an upgrade accepted after the drain began is refused");
        assert.deepEqual(await ca, { code: 1001, reason: "server shutting down" });
        assert.equal((await cb).code, 1001);
        const stopped = Number((await f.waitForLine(/^STOPPED (\d+)$/))[1]);
        assert.ok(stopped < 5000, `drained in ${stopped} ms, not at the 10 s deadline`);
        assert.equal(await f.exited, 0);
      } finally {
        await f.stop();
      }
    });

    test("a peer that never answers the close is cut at drainTimeout", async () => {
      const f = await startFixture(runtime, FIXTURE, { TAKO_WS: "h1", TAKO_WS_DRAIN: "1500" });
      try {
        const raw = await rawWs(f.port, "/echo");
        const code = raw.closeCode(10_000);
        f.child.kill("SIGTERM");
        assert.equal(await code, 1001);
        const stopped = Number((await f.waitForLine(/^STOPPED (\d+)$/))[1]);
        assert.ok(stopped >= 1300 && stopped < 6000, `join resolved after ${stopped} ms (drainTimeout 1500)`);
        assert.equal(await f.exited, 0);
        raw.socket.destroy();
      } finally {
        await f.stop();
      }
    });
  });

  describe(`${runtime}: WebSocket connections count against maxConnections`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_WS: "h1", TAKO_WS_CAP: "2" });
    test("two open sockets fill a cap of 2, are never shed as idle, and free their slot on close", async () => {
      const url = `ws://127.0.0.1:${fx.port}/echo`;
      const a = await open(url);
      const b = await open(url);
      await sleep(1200); // older than the shedding age: an idle HTTP connection would be shed now
      const res = await fetch(`http://127.0.0.1:${fx.port}/plain`).catch((e: Error) => e);
      assert.ok(!(res instanceof Error), `a refusal is an answer (${String(res)})`);
      assert.equal(res.status, 503);
      assert.equal(a.readyState, WebSocket.OPEN);
      assert.equal(b.readyState, WebSocket.OPEN);
      const gone = closed(a);
      a.close();
      await gone;
      await sleep(100);
      await echoes(url, "slot freed");
      b.close();
    });
  });

  describe(`${runtime}: wss over the http/1.1 ALPN (spawnTls, optional client certificate)`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_WS: "tls" });
    test("echo and TLS facts (ALPN, peer certificate) in open", async () => {
      const certs = testCerts();
      const tls = { ca: certs.read(certs.ca.cert), servername: "localhost", ALPNProtocols: ["http/1.1"] };
      const url = (p: string): string => `wss://127.0.0.1:${fx.port}${p}`;
      const ws = await open(url("/echo"), tls);
      ws.send("over tls");
      assert.equal((await next(ws)).data.toString(), "over tls");
      ws.close();
      const anon = await open(url("/info/t"), tls);
      const info = JSON.parse((await next(anon)).data.toString());
      assert.equal(info.alpn, "http/1.1");
      assert.equal(info.peer, null);
      anon.close();
      const withCert = await open(url("/info/t"), { ...tls, cert: certs.read(certs.client.cert), key: certs.read(certs.client.key) });
      const facts = JSON.parse((await next(withCert)).data.toString());
      assert.match(String(facts.peer), /client/i);
      withCert.close();
    });
  });

  describe(`${runtime}: WebSocket behind the PROXY protocol`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_WS: "proxy" });
    test("the client address from the PROXY header reaches open; echo works", async () => {
      const createConnection = (): ReturnType<typeof netConnect> => {
        const s = netConnect(fx.port, "127.0.0.1");
        s.write(v1("203.0.113.7", "127.0.0.1", 40000, fx.port));
        return s;
      };
      const ws = await open(`ws://127.0.0.1:${fx.port}/info/p`, { createConnection } as ClientOptions);
      const info = JSON.parse((await next(ws)).data.toString());
      assert.equal(info.remoteAddress, "203.0.113.7");
      assert.equal(info.remotePort, 40000);
      assert.deepEqual(info.proxy, { source: "203.0.113.7", port: 40000 });
      ws.close();
      const echo = await open(`ws://127.0.0.1:${fx.port}/echo`, { createConnection } as ClientOptions);
      echo.send("proxied");
      assert.equal((await next(echo)).data.toString(), "proxied");
      echo.close();
    });
  });

  describe(`${runtime}: WebSocket with load shedding configured (maxEventLoopDelay)`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_WS: "h1", TAKO_WS_SHED: "1" });
    test("the shedding dispatcher passes upgrades through", async () => {
      await echoes(`ws://127.0.0.1:${fx.port}/echo`, "not overloaded");
    });
  });

  describe(`${runtime}: the HTTP/1.1 side of spawnH2c`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_WS: "h2c" });
    test("echo", async () => {
      await echoes(`ws://127.0.0.1:${fx.port}/echo`, "h2c port, HTTP/1.1 side");
    });
    test("an HTTP/2 request to a WebSocket route is answered 426 (no RFC 8441)", async () => {
      const session = h2connect(`http://127.0.0.1:${fx.port}`);
      session.on("error", () => {}); // a reset after the answer is not this test's subject
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const req = session.request({ ":path": "/echo" });
          req.on("response", (h) => resolve(Number(h[":status"])));
          req.on("error", reject);
          req.resume();
          req.end();
        });
        assert.equal(status, 426);
      } finally {
        session.close();
      }
    });
  });
}
