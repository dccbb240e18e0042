// Bun's HTTP/1.1 engine on the wire (tako's codec on Bun.listen, tako's cap and deadlines): idle
// keep-alive connections closed at keepAliveTimeout after sync and async handlers, with a short
// timeout and with the 5 s default; a slowly dripped head (and a silent connection) closed with
// 408 at a short headerReadTimeout, at the 30 s default and at an explicit 15 s; keep-alive POSTs
// all answered; and no connect refused right after spawn* (HTTP/1.1, h2c, TLS, TLS with HTTP/2
// off, PROXY, HTTP/1.1 with a router that has WebSocket routes), while the server's event loop is blocked.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request as httpRequest, Agent } from "node:http";
import { connect as h2connect } from "node:http2";
import { request as httpsRequest } from "node:https";
import { connect as netConnect } from "node:net";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { testCerts } from "../_shared/certs.ts";
import { RawConn } from "../_shared/conn.ts";
import { commandFor, startFixture, type Fixture } from "../_shared/spawn.ts";

const FIXTURE = "test/bun-engine/_main.ts";
const start = (config: object): Promise<Fixture> => startFixture("bun", FIXTURE, { TAKO_CONFIG: JSON.stringify(config) });

/** A connection that asked once, with when it sent the request and when the answer arrived. */
interface Asked {
  conn: RawConn;
  sentAt: number;
  answeredAt: number;
}

/**
 * Opens `n` connections, each asks `path` once and reads the answer; resolves with when each
 * request was sent and when its answer arrived (its 'data' event, not after the awaits that follow).
 */
async function idleAfter(port: number, n: number, path: string): Promise<Asked[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const conn = await RawConn.open(port);
      const sentAt = Date.now();
      conn.get(path);
      const [res] = await conn.responses(1, 20_000);
      assert.equal(res?.status, 200, `${path}: ${JSON.stringify(conn.text.slice(0, 200))}`);
      return { conn, sentAt, answeredAt: conn.lastDataAt };
    }),
  );
}

/**
 * Every connection is closed by the server no sooner than `min` ms after its request was sent
 * (the server's idle clock cannot start earlier) and no later than `max` ms after its answer
 * arrived. The lower bound is not taken from the answer: with 1,100 connections in one client,
 * a 'data' event can be handled 100 ms and more after the bytes came, which made correct closes
 * look early under load.
 */
async function closedWithin(conns: Asked[], min: number, max: number, what: string): Promise<void> {
  const closedAt = await Promise.all(conns.map(({ conn }) => Promise.race([conn.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), max + 2000))])));
  for (const { conn } of conns) conn.destroy();
  const sinceSent = closedAt.map((at, i) => at - conns[i]!.sentAt);
  const idle = closedAt.map((at, i) => at - conns[i]!.answeredAt);
  const early = sinceSent.filter((ms) => ms < min).length;
  const late = idle.filter((ms) => ms > max).length;
  const sorted = [...idle].sort((a, b) => a - b);
  const sent = [...sinceSent].sort((a, b) => a - b);
  const summary = `${what}: ${conns.length} connections, closed ${sent[0]}–${sent.at(-1)} ms after the request, ${sorted[0]}–${sorted.at(-1)} ms after the answer`;
  assert.equal(early, 0, `${early} closed before ${min} ms; ${summary}`);
  assert.equal(late, 0, `${late} not closed within ${max} ms; ${summary}`);
}

describe("keep-alive timeout on Bun's HTTP/1.1, after sync and async handlers", () => {
  test("1,100 idle connections (550 after a sync, 550 after an async handler) closed at keepAliveTimeout (1 s)", { timeout: 60_000 }, async () => {
    const f = await start({ keepAliveTimeout: 1000 });
    try {
      const [sync, async] = await Promise.all([idleAfter(f.port, 550, "/sync"), idleAfter(f.port, 550, "/async")]);
      // Deadlines are swept every quarter of the shortest (250 ms here): at most that late, plus load.
      await Promise.all([closedWithin(sync, 900, 3000, "after /sync"), closedWithin(async, 900, 3000, "after /async")]);
    } finally {
      await f.stop();
    }
  });

  test("with the defaults: 1,100 idle connections closed at the 5 s keepAliveTimeout", { timeout: 60_000 }, async () => {
    const f = await start({});
    try {
      const [sync, async] = await Promise.all([idleAfter(f.port, 550, "/sync"), idleAfter(f.port, 550, "/async")]);
      // Swept every second for a 5 s deadline.
      await Promise.all([closedWithin(sync, 4900, 8000, "after /sync"), closedWithin(async, 4900, 8000, "after /async")]);
    } finally {
      await f.stop();
    }
  });

  test("keepAlive: false: 100 connections each closed after their response", { timeout: 30_000 }, async () => {
    const f = await start({ keepAlive: false });
    try {
      const conns = await idleAfter(f.port, 100, "/async");
      await closedWithin(conns, 0, 2000, "keepAlive: false");
      for (const { conn } of conns) assert.match(conn.text, /\r\nconnection: close\r\n/i);
    } finally {
      await f.stop();
    }
  });
});

/** Sends a head that never ends, one byte every `everyMs`; resolves when the server closes, with what it sent and when. */
async function drip(port: number, everyMs: number): Promise<{ text: string; ms: number }> {
  const conn = await RawConn.open(port);
  const openedAt = Date.now();
  const head = `GET /sync HTTP/1.1\r\nHost: t\r\nX-Drip: ${"a".repeat(100_000)}`;
  let i = 0;
  const timer = setInterval(() => {
    if (!conn.isClosed) conn.send(head[i++]!);
  }, everyMs);
  const closedAt = await conn.closed;
  clearInterval(timer);
  return { text: conn.text, ms: closedAt - openedAt };
}

describe("header read timeout on Bun's HTTP/1.1: slowloris", () => {
  test("a head dripped one byte every 100 ms is answered 408 and closed at headerReadTimeout (1 s); a silent connection is closed; others are served meanwhile", {
    timeout: 30_000,
  }, async () => {
    const f = await start({ headerReadTimeout: 1000 });
    try {
      const silent = await RawConn.open(f.port);
      const silentAt = Date.now();
      const dripping = drip(f.port, 100);
      // Served meanwhile.
      const other = await RawConn.open(f.port);
      other.get("/sync");
      assert.ok(await other.waitFor(/sync$/), "another client is served while the drip goes on");
      other.destroy();
      const { text, ms } = await dripping;
      assert.match(text, /^HTTP\/1\.1 408 /, `the drip got ${JSON.stringify(text.slice(0, 100))}`);
      // Not before the deadline; late by at most the sweep (250 ms) and Bun's report of a new
      // connection (up to a second for one that has sent nothing, measured), plus load.
      assert.ok(ms >= 900 && ms <= 4000, `the drip was closed after ${ms} ms`);
      const silentMs = (await silent.closed) - silentAt;
      assert.ok(silentMs >= 900 && silentMs <= 4000, `the silent connection was closed after ${silentMs} ms`);
    } finally {
      await f.stop();
    }
  });

  test("with the defaults (30 s): a dripped head is answered 408 and closed at 30 s (tako's codec has no cut of its own)", { timeout: 60_000 }, async () => {
    const f = await start({});
    try {
      const { text, ms } = await drip(f.port, 200);
      assert.match(text, /^HTTP\/1\.1 408 /, `the drip got ${JSON.stringify(text.slice(0, 100))}`);
      // Swept every second for a 5 s (keep-alive) shortest deadline.
      assert.ok(ms >= 29_900 && ms <= 33_000, `the drip was closed after ${ms} ms`);
    } finally {
      await f.stop();
    }
  });

  test("an explicit headerReadTimeout of 15 s is kept exactly: 408 at 15 s", { timeout: 60_000 }, async () => {
    const f = await start({ headerReadTimeout: 15_000 });
    try {
      const { text, ms } = await drip(f.port, 200);
      assert.match(text, /^HTTP\/1\.1 408 /, `the drip got ${JSON.stringify(text.slice(0, 100))}`);
      assert.ok(ms >= 14_900 && ms <= 18_000, `the drip was closed after ${ms} ms`);
    } finally {
      await f.stop();
    }
  });
});

describe("keep-alive POSTs on Bun's HTTP/1.1", () => {
  test("500 POSTs over 10 kept-alive connections: every one answered with its body", { timeout: 60_000 }, async () => {
    const f = await start({});
    const agent = new Agent({ keepAlive: true, maxSockets: 10 });
    const sockets = new Set<unknown>();
    try {
      const answers = await Promise.all(
        Array.from(
          { length: 500 },
          (_, i) =>
            new Promise<{ status: number; body: string }>((resolve, reject) => {
              const body = JSON.stringify({ i, pad: "x".repeat(i) });
              const req = httpRequest(
                {
                  host: "127.0.0.1",
                  port: f.port,
                  method: "POST",
                  path: "/echo",
                  agent,
                  headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
                },
                (res) => {
                  sockets.add(res.socket);
                  let text = "";
                  res.setEncoding("utf8");
                  res.on("data", (d: string) => (text += d));
                  res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
                  res.on("error", reject);
                },
              );
              req.on("error", reject);
              req.end(body);
            }),
        ),
      );
      answers.forEach((a, i) => {
        assert.equal(a.status, 200, `POST ${i}`);
        assert.deepEqual(JSON.parse(a.body), { i, pad: "x".repeat(i) }, `POST ${i}`);
      });
      assert.ok(sockets.size <= 10, `the POSTs went over ${sockets.size} connections: they were kept alive`);
    } finally {
      agent.destroy();
      await f.stop();
    }
  });
});

/** One request right after the server reported SPAWNED; resolves with "ok" or the error code. */
function askOnce(proto: string, port: number, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const fail = (e: NodeJS.ErrnoException): void => resolve(e.code ?? e.message);
    if (proto === "h2c") {
      const session = h2connect(`http://127.0.0.1:${port}`);
      session.on("error", fail);
      const stream = session.request({ ":path": "/" });
      let body = "";
      stream.setEncoding("utf8");
      stream.on("data", (d: string) => (body += d));
      stream.on("error", fail);
      stream.on("end", () => {
        session.close();
        resolve(body === "ok" ? "ok" : `answered ${JSON.stringify(body)}`);
      });
      stream.end();
      return;
    }
    if (proto === "proxy") {
      const s = netConnect({ host: "127.0.0.1", port });
      let text = "";
      s.on("data", (d: Buffer) => (text += d.toString("latin1")));
      s.on("error", fail);
      s.on("close", () => resolve(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\nok$/.test(text) ? "ok" : `answered ${JSON.stringify(text)}`));
      s.write(`PROXY TCP4 198.51.100.1 192.0.2.1 1000 80\r\nGET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      return;
    }
    const request = proto === "tls" || proto === "tls-h1" ? httpsRequest : httpRequest;
    const req = request({ host: "127.0.0.1", port, path: "/", agent: false, ca, servername: "localhost", headers: { connection: "close" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve(res.statusCode === 200 && body === "ok" ? "ok" : `answered ${res.statusCode} ${JSON.stringify(body)}`));
    });
    req.on("error", fail);
    req.end();
  });
}

describe("acceptBackoff on Bun", () => {
  test("set explicitly, spawnHttp throws TAKO_ERR_UNSUPPORTED naming the field (Bun retries a failing accept itself and reports nothing to pace)", {
    timeout: 30_000,
  }, async () => {
    await assert.rejects(start({ acceptBackoff: { initial: 5, max: 1_000 } }), (error: Error) => {
      assert.match(error.message, /TAKO_ERR_UNSUPPORTED/);
      assert.match(error.message, /"acceptBackoff" is not supported on Bun/);
      return true;
    });
  });
});

describe("no refused window on Bun: connects right after spawn*", () => {
  const ca = readFileSync(testCerts().ca.cert, "utf8");
  for (const proto of ["http1", "h2c", "tls", "tls-h1", "proxy", "ws"]) {
    test(`${proto}: 100 spawns, a connect at once after each while the server's event loop is blocked: never refused, always answered`, { timeout: 180_000 }, async () => {
      const root = fileURLToPath(new URL("../../", import.meta.url));
      const [cmd, args] = commandFor("bun", fileURLToPath(new URL("_spawn-main.ts", import.meta.url)));
      const child = spawn(cmd, args, { cwd: root, env: { ...process.env, TAKO_PROTO: proto, ROUNDS: "100" }, stdio: ["pipe", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const outcomes = new Map<string, number>();
      let rounds = 0;
      try {
        for await (const line of createInterface({ input: child.stdout })) {
          if (line === "DONE") break;
          const m = /^SPAWNED (\d+)$/.exec(line);
          if (m === null) continue;
          const outcome = await askOnce(proto, Number(m[1]), ca);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          rounds++;
          child.stdin.write("next\n");
        }
      } finally {
        child.kill("SIGKILL");
      }
      assert.equal(rounds, 100, `the fixture ran ${rounds} rounds; stderr: ${stderr.slice(0, 500)}`);
      assert.deepEqual(Object.fromEntries(outcomes), { ok: 100 });
    });
  }
});
