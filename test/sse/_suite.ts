// Server-Sent Events on the wire through a real parser (eventsource-parser): framing (multi-line
// data, event, id, retry, JSON data), injection attempts fail the stream instead of reaching the
// client, heartbeats only while idle, Last-Event-ID, and the source ended when the client
// leaves. Over HTTP/1.1, h2c, and TLS (HTTP/1.1 and h2 by ALPN), on each runtime.
import assert from "node:assert/strict";
import { connect as h2connect, type ClientHttp2Session } from "node:http2";
import { request as httpsRequest } from "node:https";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { describe, test } from "node:test";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { testCerts } from "../_shared/certs.ts";
import { useFixture, type Runtime } from "../_shared/spawn.ts";

type Wire = "h1" | "h2c" | "tls-h1" | "tls-h2";

const caPem = (): string => {
  const certs = testCerts();
  return certs.read(certs.ca.cert);
};

interface Stream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  events: EventSourceMessage[];
  comments: string[];
  retry: number[];
  /** Resolves when the response ends (or fails: then with the error). */
  done: Promise<Error | null>;
  /** Resolves once `n` events have arrived. */
  events$(n: number): Promise<void>;
  close(): void;
}

/** Opens `path` over `wire` and feeds the body to the parser. */
function open(wire: Wire, port: number, path: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const waiters: { n: number; resolve: () => void }[] = [];
    const s = { events: [], comments: [], retry: [] } as unknown as Stream;
    const parser = createParser({
      onEvent: (e) => {
        s.events.push(e);
        for (const w of waiters.filter((w) => s.events.length >= w.n)) waiters.splice(waiters.indexOf(w), 1) && w.resolve();
      },
      onComment: (c) => s.comments.push(c),
      onRetry: (r) => s.retry.push(r),
    });
    s.events$ = (n) => (s.events.length >= n ? Promise.resolve() : new Promise((r) => waiters.push({ n, resolve: r })));
    let finish!: (e: Error | null) => void;
    s.done = new Promise((r) => (finish = r));
    const onBody = (body: NodeJS.ReadableStream): void => {
      body.setEncoding("utf8");
      body.on("data", (chunk: string) => parser.feed(chunk));
      body.on("end", () => finish(null));
      body.on("error", (e: Error) => finish(e));
      body.on("close", () => finish(new Error("closed before the end")));
    };
    if (wire === "h1" || wire === "tls-h1") {
      const opts = { host: "127.0.0.1", port, path, headers, ...(wire === "tls-h1" ? { ca: caPem(), servername: "localhost" } : {}) };
      const req = (wire === "h1" ? httpRequest : httpsRequest)(opts, (res: IncomingMessage) => {
        s.status = res.statusCode ?? 0;
        s.headers = res.headers;
        s.close = () => req.destroy();
        onBody(res);
        resolve(s);
      });
      req.on("error", (e) => (s.status === undefined ? reject(e) : finish(e)));
      req.end();
      return;
    }
    const session: ClientHttp2Session =
      wire === "h2c" ? h2connect(`http://127.0.0.1:${port}`) : h2connect(`https://localhost:${port}`, { ca: caPem(), host: "127.0.0.1" } as never);
    session.on("error", (e) => (s.status === undefined ? reject(e) : finish(e)));
    const req = session.request({ ":path": path, ...headers });
    req.on("error", (e) => (s.status === undefined ? reject(e) : finish(e)));
    // A stream reset before its response head: no 'error' on some resets, only 'close'.
    req.on("close", () => (s.status === undefined ? reject(new Error(`stream closed before a response (rst ${req.rstCode})`)) : undefined));
    req.on("response", (h) => {
      s.status = Number(h[":status"]);
      s.headers = h as Stream["headers"];
      s.close = () => session.destroy();
      onBody(req);
      resolve(s);
    });
    req.on("close", () => session.close());
  });
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

function wireSuite(runtime: Runtime, wire: Wire, port: () => number): void {
  test(`framing: events, multi-line data, id, retry, JSON and plain data (${wire})`, { timeout: 20_000 }, async () => {
    const s = await open(wire, port(), "/events/3");
    assert.equal(s.status, 200);
    assert.equal(s.headers["content-type"], "text/event-stream");
    assert.equal(s.headers["cache-control"], "no-cache");
    assert.equal(s.headers["x-accel-buffering"], "no");
    assert.equal(await within(s.done, 10_000, "end of stream"), null);
    assert.deepEqual(s.retry, [1500]);
    assert.equal(s.events.length, 5);
    assert.deepEqual(s.events[0], { event: "tick", id: "1", data: "line one 1\nline two\nline three" });
    assert.deepEqual(
      s.events.slice(1, 3).map((e) => e.id),
      ["2", "3"],
    );
    assert.deepEqual(JSON.parse(s.events[3]!.data), { json: true, n: 3 });
    assert.equal(s.events[4]!.data, "plain string");
    assert.equal(s.events[4]!.event, undefined);
  });

  for (const field of ["event", "id"]) {
    test(`a line break in ${field} fails the stream; the injected field never reaches the client (${wire})`, { timeout: 20_000 }, async () => {
      // The stream fails at the bad event: the client sees the events before it, or (when the
      // runtime had not flushed them yet) a cut response; never the injected field.
      const s = await open(wire, port(), `/inject/${field}`).catch((e: Error) => e);
      if (s instanceof Error) return assert.match(s.message, /hang up|reset|closed|ECONNRESET|aborted|rst/i);
      await within(s.done, 10_000, "end of the failed stream");
      assert.ok(s.events.length <= 1 && s.events.every((e) => e.data === "before"), JSON.stringify(s.events));
      assert.ok(
        s.events.every((e) => e.event === undefined && e.id === undefined),
        JSON.stringify(s.events),
      );
    });
  }

  test(`heartbeat comments only while idle (${wire})`, { timeout: 20_000 }, async () => {
    const s = await open(wire, port(), "/pause/700/200");
    assert.equal(await within(s.done, 10_000, "end of stream"), null);
    assert.deepEqual(
      s.events.map((e) => e.data),
      ["first", "second"],
    );
    const beats = s.comments.filter((c) => c.trim() === "keep-alive").length;
    assert.ok(beats >= 2 && beats <= 4, `${beats} heartbeats in a 700 ms pause at 200 ms`);
    const busy = await open(wire, port(), "/events/5");
    await busy.done;
    assert.equal(busy.comments.filter((c) => c.trim() === "keep-alive").length, 0, "no heartbeat while events flow");
  });

  test(`Last-Event-ID reaches the handler as req.lastEventId (${wire})`, { timeout: 20_000 }, async () => {
    const s = await open(wire, port(), "/last", { "last-event-id": "42" });
    await s.done;
    assert.deepEqual(
      s.events.map((e) => e.data),
      ["42"],
    );
  });

  test(`the source is ended when the client leaves (${wire})`, { timeout: 20_000 }, async () => {
    const id = `${runtime}-${wire}-${Date.now()}`;
    const s = await open(wire, port(), `/forever/${id}`);
    await s.events$(3);
    const leftAt = Date.now();
    s.close();
    let ended: number | null = null;
    for (let i = 0; i < 50 && ended === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ended = await endedAt(wire, port(), id);
    }
    assert.ok(ended !== null, "the source was never ended after the client left");
    // Noticed at the next chunk at the latest (every 100 ms): within a second with slack.
    assert.ok(ended - leftAt < 1000, `ended ${ended - leftAt} ms after the client left`);
  });
}

/** GET /ended/{id} as plain JSON over HTTP/1.1 (the fixture serves HTTP/1.1 on every mode but TLS-h2-only). */
async function endedAt(wire: Wire, port: number, id: string): Promise<number | null> {
  const body = await new Promise<string>((resolve, reject) => {
    const tls = wire === "tls-h1" || wire === "tls-h2";
    const opts = { host: "127.0.0.1", port, path: `/ended/${id}`, ...(tls ? { ca: caPem(), servername: "localhost" } : {}) };
    const req = (tls ? httpsRequest : httpRequest)(opts, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    req.end();
  });
  return (JSON.parse(body) as { ended: number | null }).ended;
}

export function sseSuite(runtime: Runtime): void {
  describe(`SSE over HTTP/1.1 (${runtime})`, () => {
    const fx = useFixture(runtime, "test/sse/_main.ts", { TAKO_SSE: "h1" });
    wireSuite(runtime, "h1", () => fx.port);
    if (runtime === "bun") {
      // Bun.serve's own idle timeout is 10 s: a silent stream must outlive it.
      test("a 15 s pause without heartbeats is not cut (Bun's idle timeout is 10 s)", { timeout: 30_000 }, async () => {
        const s = await open("h1", fx.port, "/pause/15000/none");
        assert.equal(await within(s.done, 25_000, "end of stream"), null);
        assert.deepEqual(
          s.events.map((e) => e.data),
          ["first", "second"],
        );
      });
    }
  });
  describe(`SSE over h2c (${runtime})`, () => {
    const fx = useFixture(runtime, "test/sse/_main.ts", { TAKO_SSE: "h2c" });
    wireSuite(runtime, "h2c", () => fx.port);
  });
  describe(`SSE over TLS (${runtime})`, () => {
    const fx = useFixture(runtime, "test/sse/_main.ts", { TAKO_SSE: "tls" });
    wireSuite(runtime, "tls-h1", () => fx.port);
    wireSuite(runtime, "tls-h2", () => fx.port);
  });
}
