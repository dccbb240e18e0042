// Observability on the wire: the diagnostics channels (request tracing, connections, GOAWAY,
// drain), tako/otel's spans and metrics with the SDK's in-memory exporter, requestId() and
// accessLog(), seen from a fixture process while real clients talk to it over HTTP/1.1, h2c,
// TLS (h1 and h2) and PROXY.
import assert from "node:assert/strict";
import type { ClientHttp2Session } from "node:http2";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { testCerts } from "../_shared/certs.ts";
import { RawConn } from "../_shared/conn.ts";
import { h2, h2Session } from "../_shared/h2-client.ts";
import { http } from "../_shared/http-client.ts";
import { v1 } from "../_shared/proxy-header.ts";
import { type Fixture, type Runtime, startFixture } from "../_shared/spawn.ts";
import { h2tls, https } from "../_shared/tls-client.ts";

const FIXTURE = "test/observability/_main.ts";

interface Ev {
  ch: string;
  id?: number;
  conn?: number;
  method?: string;
  path?: string;
  route?: string | null;
  status?: number;
  clientLeft?: boolean;
  httpVersion?: string;
  remoteAddress?: string;
  reason?: string;
  code?: number;
  error?: string | null;
  forced?: boolean;
}

interface SpanOut {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  status: number;
  attributes: Record<string, unknown>;
  events: string[];
}

/** A started fixture with every "EV" and "ACCESS" line it printed, parsed. */
class Watched {
  readonly f: Fixture;
  readonly events: Ev[] = [];
  readonly access: Record<string, unknown>[] = [];
  #waiters: (() => void)[] = [];
  constructor(f: Fixture) {
    this.f = f;
    createInterface({ input: f.child.stdout! }).on("line", (line) => {
      if (line.startsWith("EV ")) this.events.push(JSON.parse(line.slice(3)) as Ev);
      else if (line.startsWith("ACCESS ")) this.access.push(JSON.parse(line.slice(7)) as Record<string, unknown>);
      else return;
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async start(runtime: Runtime, mode: string, config: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<Watched> {
    return new Watched(await startFixture(runtime, FIXTURE, { TAKO_MODE: mode, TAKO_CONFIG: JSON.stringify(config), ...env }));
  }

  /** Resolves with the events once `pred` holds for them (rejects after `ms`). */
  async until<T>(what: string, pred: () => T | undefined | false, ms = 8000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const got = pred();
      if (got !== undefined && got !== false) return got;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: not seen in ${ms} ms; events: ${JSON.stringify(this.events.slice(-30))}; stderr: ${this.f.stderr()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The start/end/asyncEnd events of the one traced request to `path` (waits for its asyncEnd). */
  async request(path: string): Promise<{ start: Ev; end: Ev; asyncEnd: Ev; errors: Ev[]; order: string[] }> {
    const asyncEnd = await this.until(`asyncEnd of ${path}`, () => this.events.find((e) => e.ch === "asyncEnd" && e.path === path));
    const mine = this.events.filter((e) => e.id === asyncEnd.id);
    const start = mine.find((e) => e.ch === "start");
    const end = mine.find((e) => e.ch === "end");
    assert.ok(start !== undefined && end !== undefined, `start/end of ${path}: ${JSON.stringify(mine)}`);
    return { start, end, asyncEnd, errors: mine.filter((e) => e.ch === "error"), order: mine.map((e) => e.ch) };
  }

  async spans(port: number, get: (port: number, path: string) => Promise<string>, pred: (s: SpanOut[]) => boolean): Promise<SpanOut[]> {
    const deadline = Date.now() + 8000;
    for (;;) {
      const spans = JSON.parse(await get(port, "/_spans")) as SpanOut[];
      if (pred(spans)) return spans;
      if (Date.now() > deadline) throw new Error(`spans not as expected: ${JSON.stringify(spans)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await this.f.stop();
  }
}

const get1 = async (port: number, path: string): Promise<string> => (await http(port, path)).text;
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/** The checks every transport shares: a routed request, an error, a miss; events and spans. */
async function requestChecks(
  w: Watched,
  call: (path: string, headers?: Record<string, string>) => Promise<{ status: number; text: string; headers: Record<string, unknown> }>,
  httpVersion: string,
  remote = "127.0.0.1",
  spanGet: (port: number, path: string) => Promise<string> = get1,
): Promise<void> {
  const ok = await call("/users/7", { "x-request-id": "req-abc_1", traceparent: TRACEPARENT });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers["x-request-id"], "req-abc_1");
  assert.deepEqual(JSON.parse(ok.text), { id: "7", requestId: "req-abc_1" });
  const r = await w.request("/users/7");
  assert.deepEqual(r.order, ["start", "end", "asyncEnd"]);
  for (const e of [r.start, r.end, r.asyncEnd]) {
    assert.equal(e.route, "/users/{id}");
    assert.equal(e.method, "GET");
    assert.equal(e.httpVersion, httpVersion);
    assert.equal(e.remoteAddress, remote);
  }
  assert.equal(r.start.status, 0);
  assert.equal(r.asyncEnd.status, 200);
  assert.equal(r.asyncEnd.clientLeft, false);

  const boom = await call("/boom");
  assert.equal(boom.status, 500);
  const b = await w.request("/boom");
  assert.equal(b.asyncEnd.status, 500);
  assert.deepEqual(
    b.errors.map((e) => e.error),
    ["boom"],
  );
  assert.equal(b.asyncEnd.route, "/boom");

  const miss = await call("/nowhere");
  assert.equal(miss.status, 404);
  const m = await w.request("/nowhere");
  assert.equal(m.asyncEnd.route, null);
  assert.equal(m.asyncEnd.status, 404);
  assert.equal(m.errors.length, 0, "a 404 is an answer, not an error event");

  // The access log saw the same requests, with the status sent and the request id.
  const line = await w.until("access log of /users/7", () => w.access.find((a) => a.path === "/users/7"));
  assert.equal(line.route, "/users/{id}");
  assert.equal(line.status, 200);
  assert.equal(line.requestId, "req-abc_1");
  assert.equal(line.remoteAddress, remote);
  assert.equal(line.httpVersion, httpVersion);
  assert.ok(typeof line.duration === "number" && line.duration >= 0);

  // OTel: the server span, child of the caller's (traceparent), and a child started in the handler.
  const child = await call("/child", { traceparent: TRACEPARENT });
  assert.equal(child.status, 200);
  const spans = await w.spans(w.f.port, spanGet, (s) => s.some((x) => x.name === "GET /child") && s.some((x) => x.name === "GET /boom"));
  const server = spans.find((s) => s.name === "GET /users/{id}")!;
  assert.ok(server !== undefined, JSON.stringify(spans.map((s) => s.name)));
  assert.equal(server.kind, 1); // SERVER
  assert.equal(server.traceId, "0af7651916cd43dd8448eb211c80319c");
  assert.equal(server.parentSpanId, "b7ad6b7169203331");
  assert.equal(server.attributes["http.request.method"], "GET");
  assert.equal(server.attributes["http.route"], "/users/{id}");
  assert.equal(server.attributes["http.response.status_code"], 200);
  assert.equal(server.attributes["url.path"], "/users/7");
  assert.equal(server.attributes["client.address"], remote);
  assert.equal(server.attributes["server.port"], w.f.port);
  assert.equal(server.attributes["network.protocol.version"], httpVersion === "2.0" ? "2" : "1.1");
  const failed = spans.find((s) => s.name === "GET /boom")!;
  assert.equal(failed.status, 2); // ERROR
  assert.equal(failed.attributes["http.response.status_code"], 500);
  assert.equal(failed.attributes["error.type"], "500");
  assert.deepEqual(failed.events, ["exception"]);
  assert.equal(spans.find((s) => s.name === "GET")?.attributes["http.response.status_code"], 404);
  const handlerSpan = spans.find((s) => s.name === "GET /child")!;
  const inner = spans.find((s) => s.name === "child-work");
  assert.ok(inner !== undefined, "the handler's span was exported");
  assert.equal(inner.parentSpanId, handlerSpan.spanId, "a span started in the handler is a child of the server span");
  assert.equal(inner.traceId, "0af7651916cd43dd8448eb211c80319c");
}

export function observabilitySuite(runtime: Runtime): void {
  describe(`observability over HTTP/1.1 (${runtime})`, () => {
    let w: Watched;
    before(async () => {
      w = await Watched.start(runtime, "h1");
    });
    after(() => w.stop());

    test("request events, access log, request id and OTel spans", { timeout: 30_000 }, async () => {
      await requestChecks(w, async (path, headers) => http(w.f.port, path, { headers }), "1.1");
    });

    test("an invalid incoming X-Request-Id is replaced by a generated one", async () => {
      for (const bad of ["has space", "x".repeat(129), 'quote"d']) {
        const r = await http(w.f.port, "/users/1", { headers: { "x-request-id": bad } });
        const id = r.headers["x-request-id"] as string;
        assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, `for ${JSON.stringify(bad)}`);
        assert.equal(JSON.parse(r.text).requestId, id);
      }
    });

    test("a client that leaves before the response: asyncEnd with clientLeft", { timeout: 15_000 }, async () => {
      const c = await RawConn.open(w.f.port);
      c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
      await w.until("start of /slow", () => w.events.find((e) => e.ch === "start" && e.path === "/slow"));
      c.destroy();
      const r = await w.request("/slow");
      assert.equal(r.asyncEnd.clientLeft, true);
      assert.equal(r.asyncEnd.status, 0, "no status went out");
      assert.equal(r.asyncEnd.route, "/slow");
      const line = await w.until("access log of /slow", () => w.access.find((a) => a.path === "/slow"));
      assert.equal(line.clientLeft, true);
    });

    test("a streamed body that fails midway: error event, then asyncEnd not complete with the status sent", { timeout: 15_000 }, async () => {
      const c = await RawConn.open(w.f.port);
      c.send("GET /stream-fail HTTP/1.1\r\nHost: x\r\n\r\n");
      await c.closed;
      const r = await w.request("/stream-fail");
      assert.deepEqual(
        r.errors.map((e) => e.error),
        ["stream broke"],
      );
      // The status the client got (0 when the cut came before the head went out: under load the
      // head and first chunk may still be buffered).
      const got = /^HTTP\/1\.1 (\d{3}) /.exec(c.text)?.[1];
      assert.equal(r.asyncEnd.status, got === undefined ? 0 : Number(got), `client got ${JSON.stringify(c.text.slice(0, 40))}`);
      assert.equal(r.asyncEnd.clientLeft, true, "not complete: the server cut the response");
    });

    test("connection open and close, paired by handle", async () => {
      const before = w.events.length;
      const c = await RawConn.open(w.f.port);
      c.send("GET /users/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      await c.closed;
      const opened = await w.until("open", () => w.events.slice(before).find((e) => e.ch === "open"));
      assert.equal(opened.remoteAddress, "127.0.0.1");
      assert.equal(opened.reason, "accepted");
      const closed = await w.until("close", () => w.events.slice(before).find((e) => e.ch === "close" && e.conn === opened.conn));
      assert.equal(closed.reason, "closed");
    });

    test("metrics: request duration, active requests, open connections", async () => {
      const m = JSON.parse((await http(w.f.port, "/_metrics")).text) as Record<string, { attributes: Record<string, unknown>; value: unknown }[]>;
      const users = m["http.server.request.duration"]?.find((p) => p.attributes["http.route"] === "/users/{id}" && p.attributes["http.response.status_code"] === 200);
      assert.ok(users !== undefined, JSON.stringify(m));
      assert.ok((users.value as { count: number }).count >= 1);
      assert.equal(users.attributes["http.request.method"], "GET");
      const boom = m["http.server.request.duration"]?.find((p) => p.attributes["http.route"] === "/boom");
      assert.equal(boom?.attributes["error.type"], "500");
      // Every traced request has ended (the /_metrics request is ignored by the instrumentation).
      for (const p of m["http.server.active_requests"] ?? []) assert.equal(p.value, 0);
      // This request's connection is open.
      const open = m["tako.server.open_connections"]?.[0]?.value as number;
      assert.ok(open >= 1, JSON.stringify(m["tako.server.open_connections"]));
    });

    test("drain: drain start and end around the shutdown", { timeout: 20_000 }, async () => {
      w.f.child.kill("SIGTERM");
      await w.f.waitForLine(/^STOPPED/);
      const start = w.events.findIndex((e) => e.ch === "drainStart");
      const end = w.events.findIndex((e) => e.ch === "drainEnd");
      assert.ok(start !== -1 && end > start, JSON.stringify(w.events.slice(-10)));
      assert.equal(w.events[start]!.forced, false);
    });
  });

  describe(`observability without middleware (${runtime})`, () => {
    test("a streamed body that fails midway: error event, then asyncEnd not complete", { timeout: 15_000 }, async () => {
      const w = await Watched.start(runtime, "h1", {}, { TAKO_NO_MIDDLEWARE: "1" });
      try {
        const c = await RawConn.open(w.f.port);
        c.send("GET /stream-fail HTTP/1.1\r\nHost: x\r\n\r\n");
        await c.closed;
        const r = await w.request("/stream-fail");
        assert.deepEqual(
          r.errors.map((e) => e.error),
          ["stream broke"],
        );
        assert.equal(r.asyncEnd.clientLeft, true, "not complete: the server cut the response");
        // The status the client got.
        const got = /^HTTP\/1\.1 (\d{3}) /.exec(c.text)?.[1];
        assert.equal(r.asyncEnd.status, got === undefined ? 0 : Number(got));
      } finally {
        await w.stop();
      }
    });
  });

  describe(`observability: connection cap (${runtime})`, () => {
    test("a connection over maxConnections is reported refused (cap)", { timeout: 20_000 }, async () => {
      const w = await Watched.start(runtime, "h1", { maxConnections: 1 });
      try {
        // The one slot holds a request in flight, so it cannot be shed to make room.
        const a = await RawConn.open(w.f.port);
        a.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        await w.until("start of /slow", () => w.events.find((e) => e.ch === "start" && e.path === "/slow"));
        const b = await RawConn.open(w.f.port);
        const refused = await w.until("refused", () => w.events.find((e) => e.ch === "refused"));
        assert.equal(refused.reason, "cap");
        assert.equal(refused.remoteAddress, "127.0.0.1");
        await b.closed;
        a.destroy();
      } finally {
        await w.stop();
      }
    });
  });

  describe(`observability over h2c (${runtime})`, () => {
    let w: Watched;
    let session: ClientHttp2Session;
    before(async () => {
      w = await Watched.start(runtime, "h2c");
      session = await h2Session(w.f.port);
    });
    after(async () => {
      session.destroy();
      await w.stop();
    });

    test("request events and spans over HTTP/2", { timeout: 30_000 }, async () => {
      const h2get = async (port: number, path: string): Promise<string> => (await h2(port, path)).text;
      await requestChecks(w, async (path, headers) => h2(session, path, { headers }), "2.0", "127.0.0.1", h2get);
    });

    test("a reset stream: asyncEnd with clientLeft", { timeout: 15_000 }, async () => {
      const stream = session.request({ ":method": "GET", ":path": "/slow" });
      stream.on("error", () => {});
      await w.until("start of /slow", () => w.events.find((e) => e.ch === "start" && e.path === "/slow"));
      stream.close(8); // CANCEL
      const r = await w.request("/slow");
      assert.equal(r.asyncEnd.clientLeft, true);
      assert.equal(r.asyncEnd.status, 0, "no status went out");
    });

    test("drain sends GOAWAY NO_ERROR, reported on tako:h2:goaway", { timeout: 20_000 }, async () => {
      const idle = await h2Session(w.f.port);
      await h2(idle, "/users/3");
      const goaway = new Promise<number>((resolve) => idle.once("goaway", (code: number) => resolve(code)));
      w.f.child.kill("SIGTERM");
      assert.equal(await goaway, 0);
      const ev = await w.until("goaway event", () => w.events.find((e) => e.ch === "goaway"));
      assert.equal(ev.code, 0);
      assert.equal(ev.reason, "drain");
      await w.f.waitForLine(/^STOPPED/);
      assert.ok(w.events.some((e) => e.ch === "drainEnd"));
      idle.destroy();
    });
  });

  const h2cMode = "h2c";
  describe(`observability: h2 GOAWAY on abuse (${runtime})`, () => {
    test("a PING flood past the control-frame budget: GOAWAY ENHANCE_YOUR_CALM, reason abuse", { timeout: 15_000 }, async () => {
      const w = await Watched.start(runtime, h2cMode);
      try {
        const c = await RawConn.open(w.f.port);
        const frame = (type: number, payload: Buffer): Buffer => {
          const head = Buffer.alloc(9);
          head.writeUIntBE(payload.length, 0, 3);
          head[3] = type;
          return Buffer.concat([head, payload]);
        };
        c.socket.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), frame(0x4, Buffer.alloc(0))]));
        // In batches, so nghttp2's own guard (over 1,000 unsent ACKs from one read) is not what ends it.
        const batch = Buffer.concat(Array.from({ length: 50 }, () => frame(0x6, Buffer.alloc(8))));
        for (let i = 0; i < 24 && !c.socket.destroyed; i++) {
          c.socket.write(batch);
          await new Promise((r) => setTimeout(r, 5));
        }
        const ev = await w.until("goaway event", () => w.events.find((e) => e.ch === "goaway"));
        assert.deepEqual([ev.code, ev.reason], [11, "abuse"]);
        c.destroy();
      } finally {
        await w.stop();
      }
    });
  });

  describe(`observability: h2 idle GOAWAY (${runtime})`, () => {
    test("keepAliveTimeout on an idle h2 connection: GOAWAY NO_ERROR, reason idle", { timeout: 15_000 }, async () => {
      const w = await Watched.start(runtime, h2cMode, { keepAliveTimeout: 300 });
      try {
        const session = await h2Session(w.f.port);
        const goaway = new Promise<number>((resolve) => session.once("goaway", (code: number) => resolve(code)));
        await h2(session, "/users/4");
        assert.equal(await goaway, 0);
        const ev = await w.until("goaway event", () => w.events.find((e) => e.ch === "goaway"));
        assert.deepEqual([ev.code, ev.reason], [0, "idle"]);
        session.destroy();
      } finally {
        await w.stop();
      }
    });
  });

  // "tls-h1": HTTP/2 switched off (on Bun, TLS on its Bun.listen path).
  for (const tlsMode of ["tls", "tls-h1"] as const) {
    const tag = tlsMode === "tls" ? runtime : `${runtime}, HTTP/2 off`;
    describe(`observability over TLS (${tag})`, () => {
      const certs = testCerts();
      let w: Watched;
      before(async () => {
        w = await Watched.start(runtime, tlsMode);
      });
      after(() => w.stop());

      const tlsGet = async (port: number, path: string): Promise<string> => (await https(certs, port, path)).text;

      test("HTTPS/1.1: request events and spans with tls.protocol.version", { timeout: 30_000 }, async () => {
        await requestChecks(
          w,
          async (path, headers) => {
            // https() has no header option: a raw request through node:https would do; use h1 over TLS via fetch-like helper.
            const r = await httpsWithHeaders(certs, w.f.port, path, headers ?? {});
            return r;
          },
          "1.1",
          "127.0.0.1",
          tlsGet,
        );
        const spans = JSON.parse(await tlsGet(w.f.port, "/_spans")) as SpanOut[];
        const s = spans.find((x) => x.name === "GET /users/{id}")!;
        assert.equal(s.attributes["url.scheme"], "https");
        tlsVersionChecks(runtime, s);
      });

      if (tlsMode === "tls")
        test("h2 over TLS: request events with httpVersion 2.0", { timeout: 15_000 }, async () => {
          const session = await h2tls(certs, w.f.port);
          try {
            const r = await h2(session, "/users/9");
            assert.equal(r.status, 200);
            const e = await w.request("/users/9");
            assert.equal(e.asyncEnd.httpVersion, "2.0");
            assert.equal(e.asyncEnd.status, 200);
            const spans = await w.spans(w.f.port, tlsGet, (s) => s.some((x) => x.attributes["url.path"] === "/users/9"));
            const s = spans.find((x) => x.attributes["url.path"] === "/users/9")!;
            assert.equal(s.attributes["network.protocol.version"], "2");
            tlsVersionChecks(runtime, s);
          } finally {
            session.destroy();
          }
        });

      test("a failed TLS handshake is reported refused (tls)", { timeout: 15_000 }, async () => {
        const socket = connect({ host: "127.0.0.1", port: w.f.port });
        socket.on("error", () => {});
        socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        const refused = await w.until("refused tls", () => w.events.find((e) => e.ch === "refused"));
        assert.equal(refused.reason, "tls");
        socket.destroy();
      });
    });

    describe(`observability: TLS handshake timeout (${tag})`, () => {
      // An explicit tlsHandshakeTimeout: on Deno, node:tls over Deno.listen (Deno.listenTls has no handshake deadline).
      test("a connection that never sends a ClientHello is refused (tls) at tlsHandshakeTimeout, then closed", { timeout: 15_000 }, async () => {
        const w = await Watched.start(runtime, tlsMode, { tlsHandshakeTimeout: 300 });
        try {
          const c = await RawConn.open(w.f.port);
          const opened = Date.now();
          const refused = await w.until("refused tls", () => w.events.find((e) => e.ch === "refused"));
          assert.equal(refused.reason, "tls");
          assert.equal(refused.remoteAddress, "127.0.0.1");
          const closedAt = await c.closed;
          assert.ok(closedAt - opened >= 250, `closed after ${closedAt - opened} ms`);
          await w.until("close", () => w.events.find((e) => e.ch === "close"));
        } finally {
          await w.stop();
        }
      });
    });
  }

  // Both modes are read by tako's PROXY reader on every runtime but Node (Bun.listen, Deno.listen).
  for (const mode of ["required", "optional"] as const)
    describe(`observability behind PROXY, ${mode} (${runtime})`, () => {
      let w: Watched;
      before(async () => {
        w = await Watched.start(runtime, mode === "required" ? "proxy" : "proxy-optional");
      });
      after(() => w.stop());

      const viaProxy = async (port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Record<string, unknown> }> => {
        const c = await RawConn.open(port);
        try {
          c.socket.write(v1("203.0.113.9", "192.0.2.1", 51000, 443));
          const extra = Object.entries(headers)
            .map(([n, v]) => `${n}: ${v}\r\n`)
            .join("");
          c.send(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${extra}\r\n`);
          const [r] = await c.responses(1, 8000);
          assert.ok(r !== undefined);
          return { status: r.status, text: r.body, headers: Object.fromEntries(r.headers) };
        } finally {
          c.destroy();
        }
      };

      test("request events and spans carry the PROXY header's client address", { timeout: 30_000 }, async () => {
        await requestChecks(
          w,
          (path, headers) => viaProxy(w.f.port, path, headers),
          "1.1",
          "203.0.113.9",
          async (port, path) => (await viaProxy(port, path)).text,
        );
      });

      test("a connection with a malformed PROXY header is reported refused (proxy)", { timeout: 15_000 }, async () => {
        const c = await RawConn.open(w.f.port);
        c.send("PROXY TCP4 not-an-address\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        const refused = await w.until("refused proxy", () => w.events.find((e) => e.ch === "refused"));
        assert.equal(refused.reason, "proxy");
        assert.equal(refused.remoteAddress, "127.0.0.1");
        await c.closed;
      });
    });
}

/**
 * `tls.protocol.version` is set from `req.conn.tls.protocol`: Deno's `Deno.listenTls` path does
 * not expose the TLS version (docs/runtime-coverage.md), so there the attribute is absent.
 */
function tlsVersionChecks(runtime: Runtime, span: SpanOut): void {
  if (runtime === "deno") {
    assert.equal(span.attributes["tls.protocol.version"], undefined);
    return;
  }
  assert.match(String(span.attributes["tls.protocol.version"]), /^1\.[23]$/);
  assert.equal(span.attributes["tls.protocol.name"], "tls");
}

/** One HTTPS/1.1 request with headers (the shared https() helper takes none). */
async function httpsWithHeaders(
  certs: ReturnType<typeof testCerts>,
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const { request } = await import("node:https");
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, servername: "localhost", ca: certs.read(certs.ca.cert), headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, text, headers: res.headers }));
      res.on("error", reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`https ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}
