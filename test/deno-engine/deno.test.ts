// The Deno engine on the wire: tako's raw-socket server (wire/H1Server, H1Conn over a
// DenoWireSocket) on Deno.listen: HTTP/1.1 and HTTP/2 on tako's codecs under its deadlines,
// connection cap and drain. Fixtures run under Deno; clients are raw node:net sockets, node:http
// and the raw HTTP/2 frame client.
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { RawConn } from "../_shared/conn.ts";
import { ErrorCode, errorName, FrameType, H2RawConn, ping, request as h2Request, settings, Setting } from "../_shared/h2-raw/index.ts";
import { execFileSync } from "node:child_process";
import { commandFor, startFixture, type Fixture } from "../_shared/spawn.ts";

const FIXTURE = "test/deno-engine/_main.ts";

function start(env: { config?: Record<string, unknown>; proto?: string; self?: number; early?: number } = {}): Promise<Fixture> {
  return startFixture("deno", FIXTURE, {
    TAKO_CONFIG: JSON.stringify(env.config ?? {}),
    TAKO_PROTO: env.proto ?? "http1",
    TAKO_SELF: String(env.self ?? 0),
    TAKO_EARLY: String(env.early ?? 0),
  });
}

/** `promise`, or a failure naming `what` after `ms` (a bound on a hang, not a timing assertion). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);
}

describe("Deno engine: Deno's internal read and write ops", () => {
  // DenoWireSocket reads and writes through Deno[Deno.internal].core (connOps) and falls back to
  // conn.read/conn.write without it. This fails when a Deno upgrade removes them, so the fallback
  // (measured ~0.2 µs more per request) is never taken silently. Likewise TLS on a `Deno.listen`
  // connection (resolvers, client certificates, PROXY, an explicit handshake deadline) runs on a
  // node:net handle opened on a duplicate of its descriptor (tcpWrap's openFromRid), over a
  // JavaScript stream without it (measured ~15% fewer requests/s on HTTPS/1.1).
  test("the pinned Deno exposes them on TCP and TLS connections, and bytes go both ways through them (and through the fallback); a connection's descriptor opens as a node:net handle (openFromRid)", {
    timeout: 30_000,
  }, () => {
    const [cmd, args] = commandFor("deno", "test/deno-engine/_ops.ts");
    const out = JSON.parse(execFileSync(cmd, args, { encoding: "utf8", timeout: 20_000 }).trim()) as Record<string, { direct: boolean; echoed: string }>;
    assert.deepEqual(out, {
      tcp: { direct: true, echoed: "echo ping" },
      tls: { direct: true, echoed: "echo ping" },
      fallback: { direct: false, echoed: "echo ping" },
      dup: { handle: true, echoed: "echo ping" },
    });
  });
});

describe("Deno engine: idle keep-alive connections", () => {
  test("1,000 keep-alive connections, idle after sync and async handlers, are closed at keepAliveTimeout", { timeout: 60_000 }, async () => {
    const f = await start({ config: { keepAliveTimeout: 1000 } });
    try {
      const conns: RawConn[] = [];
      for (let i = 0; i < 1000; i++) conns.push(await RawConn.open(f.port));
      conns.forEach((c, i) => {
        c.get(i % 2 === 0 ? "/" : "/async");
      });
      const answered = await Promise.all(conns.map((c) => c.waitFor(/\r\n\r\n(async )?ok$/, 20_000)));
      assert.equal(answered.filter(Boolean).length, 1000, "every request answered");
      const answeredAt = Date.now();
      const closed = await within(Promise.all(conns.map((c) => c.closed)), 20_000, "idle connections closed");
      // Not before the timeout (1,000 ms, less slack for the timer and the client's clock).
      const early = closed.filter((t) => t - answeredAt < 0).length;
      assert.equal(early, 0);
      assert.ok(conns.every((c) => c.statuses.length === 1 && c.statuses[0] === 200));
    } finally {
      await f.stop();
    }
  });

  test("a connection stays open while requests keep coming, and closes once idle", { timeout: 30_000 }, async () => {
    const f = await start({ config: { keepAliveTimeout: 600 } });
    try {
      const c = await RawConn.open(f.port);
      // 10 requests 200 ms apart: 2 s in total, over three times the idle timeout.
      for (let i = 1; i <= 10; i++) {
        c.get("/");
        assert.equal((await c.responses(i, 5000)).length, i, `response ${i}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(c.isClosed, false);
      await within(c.closed, 10_000, "idle close");
    } finally {
      await f.stop();
    }
  });
});

describe("Deno engine: slowloris", () => {
  test("a head trickled past headerReadTimeout is cut; other clients are served meanwhile", { timeout: 30_000 }, async () => {
    const f = await start({ config: { headerReadTimeout: 700 } });
    try {
      const slow = await RawConn.open(f.port);
      const head = `GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ${"a".repeat(200)}`;
      let i = 0;
      const trickle = setInterval(() => {
        if (i < head.length && !slow.isClosed) slow.send(head[i++]!);
      }, 20);
      try {
        const other = await RawConn.open(f.port);
        other.get("/");
        assert.ok(await other.waitFor(/ok$/), "another client is served");
        await within(slow.closed, 10_000, "slowloris cut");
        assert.deepEqual(slow.statuses, [408], "408, then the close");
        assert.ok(i < head.length, "cut before the head was complete");
      } finally {
        clearInterval(trickle);
      }
    } finally {
      await f.stop();
    }
  });

  test("a second head trickled after a response is cut at min(keepAliveTimeout, headerReadTimeout)", { timeout: 30_000 }, async () => {
    const f = await start({ config: { headerReadTimeout: 600, keepAliveTimeout: 60_000 } });
    try {
      const c = await RawConn.open(f.port);
      c.get("/");
      assert.ok(await c.waitFor(/ok$/));
      c.send("GET / HTTP/1.1\r\nHo");
      const trickle = setInterval(() => !c.isClosed && c.send("x"), 50);
      try {
        await within(c.closed, 10_000, "second head cut");
      } finally {
        clearInterval(trickle);
      }
      assert.deepEqual(c.statuses, [200]);
    } finally {
      await f.stop();
    }
  });

  test("with the defaults: a stalled head is cut at 30 s and an idle keep-alive connection at 5 s", { timeout: 60_000 }, async () => {
    const f = await start();
    try {
      const stalled = await RawConn.open(f.port);
      stalled.send("GET / HTTP/1.1\r\nHost: t\r\n");
      const openedAt = Date.now();
      const idle = await RawConn.open(f.port);
      idle.get("/");
      assert.ok(await idle.waitFor(/ok$/));
      const idleAt = Date.now();
      const idleClosed = await within(idle.closed, 15_000, "idle keep-alive connection closed (default keepAliveTimeout 5 s)");
      assert.ok(idleClosed - idleAt >= 4000, `idle connection closed after ${idleClosed - idleAt} ms`);
      assert.equal(stalled.isClosed, false, "the stalled head is not cut at the keep-alive timeout");
      const stalledClosed = await within(stalled.closed, 45_000, "stalled head cut (default headerReadTimeout 30 s)");
      assert.ok(stalledClosed - openedAt >= 29_000, `stalled head cut after ${stalledClosed - openedAt} ms`);
    } finally {
      await f.stop();
    }
  });
});

describe("Deno engine: keep-alive clients", () => {
  test("a keep-alive client sends 500 POSTs and loses none", { timeout: 60_000 }, async () => {
    const f = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const post = (i: number): Promise<string> =>
        new Promise((resolve, reject) => {
          const body = "x".repeat(i % 100);
          const req = request({ host: "127.0.0.1", port: f.port, path: "/post", method: "POST", agent, headers: { "content-length": body.length } }, (res) => {
            let t = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (t += d));
            res.on("end", () => resolve(`${res.statusCode} ${t}`));
          });
          req.on("error", reject);
          req.end(body);
        });
      const results = await Promise.allSettled(Array.from({ length: 500 }, (_, i) => post(i)));
      const failed = results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason));
      assert.deepEqual(failed, []);
      results.forEach((r, i) => {
        assert.equal((r as PromiseFulfilledResult<string>).value, `200 got ${i % 100}`);
      });
    } finally {
      agent.destroy();
      await f.stop();
    }
  });

  test("a response with Connection: close closes the connection after it", async () => {
    const f = await start();
    try {
      const c = await RawConn.open(f.port);
      c.get("/close");
      await within(c.closed, 10_000, "close after Connection: close");
      assert.deepEqual(c.statuses, [200]);
      assert.match(c.text, /\r\n\r\n(bye|3\r\nbye\r\n0\r\n\r\n)$/, "the whole body (chunked: its last chunk), then the close");
    } finally {
      await f.stop();
    }
  });
});

describe("Deno engine: connecting right after spawn is never refused", () => {
  for (const proto of ["http1", "h2c", "h2c-h1", "tls", "tls-resolver"]) {
    test(`${proto}: 100 connections opened in the process right after spawn are all served; 100 more from outside after READY`, { timeout: 60_000 }, async () => {
      const f = await start({ proto, self: 100 });
      try {
        const m = await f.waitForLine(/^SELF (\d+) (\d+)$/, 30_000);
        assert.deepEqual([Number(m[1]), Number(m[2])], [100, 0]);
        const outside = await Promise.allSettled(Array.from({ length: 100 }, () => RawConn.open(f.port)));
        assert.equal(outside.filter((r) => r.status === "rejected").length, 0);
        for (const r of outside) if (r.status === "fulfilled") r.value.destroy();
      } finally {
        await f.stop();
      }
    });
  }
});

describe("Deno engine: connections made between bind and spawn", () => {
  // Deno.listen is bound at bind; connects wait in the backlog and are served at spawn. TLS from a
  // resolver stays on the bound listener; a plain certificate moves the port to Deno.listenTls,
  // after the connections queued on the bound listener have been accepted (served with node:tls
  // over their own descriptor), so none is reset by the move.
  for (const proto of ["http1", "h2c", "tls-resolver", "tls"]) {
    test(`${proto}: 50 connections whose first bytes were sent before spawn are all served`, { timeout: 60_000 }, async () => {
      const f = await start({ proto, early: 50 });
      try {
        const m = await f.waitForLine(/^EARLY (\d+) (\d+)$/, 30_000);
        assert.deepEqual([Number(m[1]), Number(m[2])], [50, 0]);
      } finally {
        await f.stop();
      }
    });
  }
});

describe("Deno engine: the socket under load (DenoWireSocket: partial writes, the write queue, reads paused by the body)", () => {
  test("an 8 MiB response to a client that reads slowly arrives whole and in order; the connection serves on", { timeout: 60_000 }, async () => {
    const f = await start();
    try {
      const socket = connect({ host: "127.0.0.1", port: f.port });
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      socket.pause();
      socket.write("GET /big HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n");
      // Not read for a while: the kernel buffers fill and the server's writes come back short.
      await new Promise((r) => setTimeout(r, 500));
      const chunks: Buffer[] = [];
      socket.on("data", (d: Buffer) => chunks.push(d));
      socket.resume();
      const BIG = 8 * 1024 * 1024;
      await within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            const all = Buffer.concat(chunks).toString("latin1");
            if (all.endsWith("\r\n\r\nok")) resolve();
          };
          socket.on("data", check);
        }),
        30_000,
        "both responses",
      );
      const all = Buffer.concat(chunks);
      const headEnd = all.indexOf("\r\n\r\n");
      assert.match(all.subarray(0, headEnd).toString("latin1"), new RegExp(`^HTTP/1\\.1 200 [\\s\\S]*content-length: ${BIG}`, "i"));
      const body = all.subarray(headEnd + 4, headEnd + 4 + BIG);
      assert.equal(body.length, BIG);
      for (let i = 0; i < BIG; i += 4093) assert.equal(body[i], i % 251, `byte ${i}`);
      assert.match(all.subarray(headEnd + 4 + BIG).toString("latin1"), /^HTTP\/1\.1 200 [\s\S]*\r\n\r\nok$/);
      socket.destroy();
    } finally {
      await f.stop();
    }
  });

  test("a 16 MiB upload in 64 KiB writes reaches the handler whole; 200 pipelined GETs in one write are answered in order", { timeout: 60_000 }, async () => {
    const f = await start();
    try {
      const size = 16 * 1024 * 1024;
      const body = Buffer.alloc(size, 0);
      for (let i = 0; i < size; i++) body[i] = (i * 7) % 256;
      let sum = 0;
      for (const b of body) sum = (sum + b) % 1_000_003;
      const res = await new Promise<string>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port: f.port, path: "/sum", method: "POST", headers: { "content-length": size } }, (r) => {
          let t = "";
          r.setEncoding("utf8");
          r.on("data", (d: string) => (t += d));
          r.on("end", () => resolve(`${r.statusCode} ${t}`));
        });
        req.on("error", reject);
        for (let at = 0; at < size; at += 65_536) req.write(body.subarray(at, at + 65_536));
        req.end();
      });
      assert.equal(res, `200 ${size} ${sum}`);
      const c = await RawConn.open(f.port);
      c.send(Array.from({ length: 200 }, (_, i) => `GET /n/${i} HTTP/1.1\r\nHost: t\r\n\r\n`).join(""));
      const answers = await c.responses(200, 20_000);
      assert.deepEqual(
        answers.map((a) => a.body),
        Array.from({ length: 200 }, (_, i) => String(i)),
      );
      c.destroy();
    } finally {
      await f.stop();
    }
  });
});

describe("Deno engine: HTTP/1.1 heads Deno.serve used to accept", () => {
  for (const [name, bytes] of [
    ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n"],
    ["bare LF line endings", "GET / HTTP/1.1\nHost: t\n\n"],
    ["bare LF after the request line only", "GET / HTTP/1.1\nHost: t\r\n\r\n"],
  ] as const) {
    test(`${name} → 400, then closed`, async () => {
      const f = await start();
      try {
        const c = await RawConn.open(f.port);
        c.send(bytes);
        await within(c.closed, 10_000, "close after 400");
        assert.deepEqual(c.statuses, [400], c.text);
      } finally {
        await f.stop();
      }
    });
  }

  test("an h2c preface on a spawnHttp port gets an HTTP/1.1 refusal, not HTTP/2", async () => {
    const f = await start();
    try {
      const c = await RawConn.open(f.port);
      c.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
      await within(c.closed, 10_000, "close after the refusal");
      assert.match(c.text, /^HTTP\/1\.1 (400|505) /, JSON.stringify(c.text.slice(0, 100)));
    } finally {
      await f.stop();
    }
  });
});

describe("Deno engine: connection cap", () => {
  test("at maxConnections the oldest idle connection is shed; with none idle, a new one gets 503 Retry-After", { timeout: 30_000 }, async () => {
    const f = await start({ config: { maxConnections: 3 } });
    try {
      const idle = [await RawConn.open(f.port), await RawConn.open(f.port), await RawConn.open(f.port)];
      idle[1]!.get("/");
      assert.ok(await idle[1]!.waitFor(/ok$/));
      await new Promise((r) => setTimeout(r, 1200)); // shedding spares connections younger than 1 s
      const fresh = await RawConn.open(f.port);
      fresh.get("/");
      assert.ok(await fresh.waitFor(/ok$/), `the new connection is served: ${JSON.stringify(fresh.text)}`);
      await within(idle[0]!.closed, 5000, "the oldest idle connection is shed");
      assert.equal(idle[1]!.isClosed, false);
      assert.equal(idle[2]!.isClosed, false);
      // Now fill the cap with requests in flight: nothing idle to shed.
      for (const c of [idle[1]!, idle[2]!, fresh]) c.get("/hang");
      await new Promise((r) => setTimeout(r, 1200));
      const refused = await RawConn.open(f.port);
      await within(refused.closed, 5000, "refused connection closed");
      assert.match(refused.text, /^HTTP\/1\.1 503 /);
      assert.match(refused.text, /\r\nretry-after: 1\r\n/i);
      for (const c of [idle[1]!, idle[2]!, fresh]) assert.equal(c.isClosed, false, "busy connections are never shed");
    } finally {
      await f.stop();
    }
  });

  test("h2c-only over the cap: SETTINGS then GOAWAY(NO_ERROR), then close", { timeout: 30_000 }, async () => {
    const f = await start({ proto: "h2c", config: { maxConnections: 1 } });
    try {
      const busy = await RawConn.open(f.port);
      busy.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00");
      assert.ok(await busy.waitFor(/[\s\S]{9}/));
      // A stream in flight, so the connection is not idle: HEADERS for GET /hang (literal, no Huffman).
      const block = Buffer.from([0x82, 0x86, 0x04, 0x05, ...Buffer.from("/hang"), 0x01, 0x01, 0x74]);
      const frame = Buffer.concat([Buffer.from([0, 0, block.length, 1, 5, 0, 0, 0, 1]), block]);
      busy.socket.write(frame);
      await new Promise((r) => setTimeout(r, 1200));
      const refused = await RawConn.open(f.port);
      await within(refused.closed, 5000, "refused h2c connection closed");
      const bytes = Buffer.from(refused.text, "latin1");
      assert.equal(bytes[3], 4, "a SETTINGS frame first");
      assert.equal(bytes[9 + 3], 7, "then GOAWAY");
      assert.equal(bytes.readUInt32BE(9 + 9 + 4), 0, "NO_ERROR");
      assert.equal(busy.isClosed, false);
    } finally {
      await f.stop();
    }
  });
});

describe("Deno engine: h2c on tako's HTTP/2 codec (defaults)", () => {
  for (const [name, frame] of [
    ["PING", () => ping(Buffer.from("floodme!"))],
    ["SETTINGS", () => settings([[Setting.ENABLE_PUSH, 0]])],
  ] as const) {
    test(`a ${name} flood gets GOAWAY ENHANCE_YOUR_CALM and a closed connection; another client is served`, { timeout: 30_000 }, async () => {
      const f = await start({ proto: "h2c" });
      try {
        const conn = await H2RawConn.connect(f.port, { keepFrames: false });
        const batch = Buffer.concat(Array.from({ length: 500 }, frame));
        for (let i = 0; i < 40 && !conn.isClosed; i++) await conn.writeAll([batch]);
        await conn.until(() => conn.goaways.length > 0 || conn.isClosed, 5000, "GOAWAY after the flood");
        await within(conn.closed, 5000, "the flooding connection closed");
        assert.equal(conn.goaways[0]?.errorCode, ErrorCode.ENHANCE_YOUR_CALM, `${errorName(conn.goaways[0]?.errorCode ?? -1)}: ${conn.summary()}`);
        const honest = await H2RawConn.connect(f.port);
        honest.write(h2Request(1, { path: "/" }));
        const res = await honest.response(1, 5000);
        assert.equal(res.status, 200);
        assert.equal(res.body.toString(), "ok");
        honest.close();
      } finally {
        await f.stop();
      }
    });
  }

  test("SETTINGS are tako's defaults: 100 streams, 16 KiB header list", async () => {
    const f = await start({ proto: "h2c" });
    try {
      const conn = await H2RawConn.connect(f.port);
      await conn.nextFrame((fr) => fr.type === FrameType.SETTINGS, 5000);
      assert.equal(conn.serverSettings?.get(Setting.MAX_CONCURRENT_STREAMS), 100);
      assert.equal(conn.serverSettings?.get(Setting.MAX_HEADER_LIST_SIZE), 16 * 1024);
      conn.close();
    } finally {
      await f.stop();
    }
  });
});
