// HTTP/2 limits and abuse, observed on the wire with a raw-frame client against a fixture with
// small limits (and HTTP/1.1 on the same port). Every attack is bounded in count and time,
// targets 127.0.0.1, and runs while an honest client on another connection must keep being served.
import assert from "node:assert/strict";
import type { ClientHttp2Session } from "node:http2";
import { after, before, describe, test } from "node:test";
import { h2, h2Session } from "../_shared/h2-client.ts";
import {
  continuation,
  data,
  encodeHeaders,
  ErrorCode,
  errorName,
  Flag,
  frameHeader,
  FrameType,
  H2RawConn,
  headers,
  hpackIndexed,
  hpackLiteral,
  ping,
  request,
  rstStream,
  Setting,
  settings,
  type Frame,
} from "../_shared/h2-raw/index.ts";
import { Socket } from "node:net";
import { http } from "../_shared/http-client.ts";
import type { Fixture, Runtime } from "../_shared/spawn.ts";

export const LIMITS_CONFIG = {
  h2MaxConcurrentStreams: 5,
  h2MaxHeaderListSize: 4096,
  h2MaxSendBufSize: 64 * 1024,
  h2MaxPendingAcceptResetStreams: 10,
  h2KeepAliveInterval: 400,
  headerReadTimeout: 1000,
  maxConnections: 12,
  drainTimeout: 5000,
};

const isGoaway = (f: Frame): boolean => f.type === FrameType.GOAWAY;
let endlessIds = 0;

/**
 * Calls `probe` until `done` holds for its result, `intervalMs` apart, at most 100 times; fails
 * naming `what` with the last result otherwise.
 */
async function poll<T>(probe: () => Promise<T>, done: (value: T) => boolean, intervalMs: number, what: string): Promise<T> {
  let last: T | undefined;
  for (let attempt = 0; attempt < 100; attempt++) {
    last = await probe();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  assert.fail(`gave up waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

/** A raw connection whose SETTINGS exchange is complete (the server has our ACK). */
async function settled(port: number, opts: Parameters<typeof H2RawConn.connect>[1] = {}): Promise<H2RawConn> {
  const conn = await H2RawConn.connect(port, opts);
  await conn.nextFrame((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0);
  // A PING round trip after our ACK: the server has processed everything before it.
  conn.write(ping(Buffer.from("settled!")));
  await conn.nextFrame((f) => f.type === FrameType.PING && (f.flags & Flag.ACK) !== 0);
  return conn;
}

/** `http1`: the fixture serves HTTP/1.1 on the same port (`spawnH2c(…, { http1: true })`). */
export function limitsSuite(runtime: Runtime, http1: boolean, start: () => Promise<Fixture>): void {
  let f: Fixture;
  let port = 0;
  let session: ClientHttp2Session | null = null;
  /** The honest client's session; like any client it reconnects after the server closed an idle one. */
  const honestSession = async (): Promise<ClientHttp2Session> => {
    if (session === null || session.closed || session.destroyed) session = await h2Session(port);
    return session;
  };
  before(async () => {
    f = await start();
    port = f.port;
  });
  after(async () => {
    session?.destroy();
    await f.stop();
  });

  /** Runs `attack` while the honest client sends a request every 50 ms; all must be answered. */
  async function withHonestClient(attack: () => Promise<void>): Promise<void> {
    let stop = false;
    let served = 0;
    const failures: string[] = [];
    const loop = (async () => {
      while (!stop) {
        const r = await h2(await honestSession(), "/users/honest").catch((e: Error) => e);
        if (r instanceof Error || r.status !== 200) failures.push(r instanceof Error ? r.message : String(r.status));
        else served++;
        // Pacing, not synchronisation: an honest client asks now and then, it does not flood.
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    try {
      await attack();
    } finally {
      stop = true;
      await loop;
    }
    assert.deepEqual(failures, [], "the honest client must be served throughout");
    assert.ok(served > 0);
  }

  describe(`HTTP/2 limits on the wire (${runtime})`, () => {
    test("SETTINGS advertise h2MaxConcurrentStreams and h2MaxHeaderListSize", async () => {
      const conn = await settled(port);
      assert.equal(conn.serverSettings?.get(Setting.MAX_CONCURRENT_STREAMS), 5);
      assert.equal(conn.serverSettings?.get(Setting.MAX_HEADER_LIST_SIZE), 4096);
      conn.close();
    });

    test("h2MaxConcurrentStreams: a stream beyond the limit is refused; the server keeps serving", async () => {
      const conn = await settled(port);
      for (let i = 0; i < 5; i++) conn.write(request(1 + 2 * i, { path: "/h2/hold/1500" }));
      conn.write(request(11, { path: "/" }));
      const refused = await conn.nextFrame((fr) => (fr.type === FrameType.RST_STREAM && fr.streamId === 11) || isGoaway(fr));
      if (refused.type === FrameType.RST_STREAM) {
        assert.equal(conn.resets.get(11), ErrorCode.REFUSED_STREAM, `stream 11 reset with ${errorName(conn.resets.get(11) ?? -1)}`);
        // The five admitted streams complete.
        for (let i = 0; i < 5; i++) assert.equal((await conn.response(1 + 2 * i, 10_000)).status, 200);
      } else {
        // nghttp2 (node:http2) treats a peer over the advertised limit as a connection error.
        assert.equal(runtime, "node", `only nghttp2 answers with GOAWAY here; got ${conn.summary()}`);
        await conn.closed;
      }
      assert.equal(conn.responseHeaders.has(11), false, "the stream over the limit must not be served");
      conn.close();
      assert.equal((await h2(await honestSession(), "/")).status, 200);
    });

    test("h2MaxHeaderListSize: an oversized header list gets 431 on that stream; the connection survives", async () => {
      const conn = await settled(port);
      conn.write(request(1, { path: "/", headers: [["x-big", "a".repeat(6000)]] }));
      const res = await conn.response(1).catch((e: Error) => e);
      if (res instanceof Error) assert.match(res.message, /REFUSED_STREAM|ENHANCE_YOUR_CALM|PROTOCOL_ERROR/);
      else assert.equal(res.status, 431);
      conn.write(request(3, { path: "/" }));
      assert.equal((await conn.response(3)).status, 200, "other streams on the connection are served");
      conn.close();
    });

    test("HPACK bomb: one indexed 4 KB header repeated 200 times is refused, memory stays bounded", async () => {
      const conn = await settled(port);
      const block = Buffer.concat([
        encodeHeaders([
          [":method", "GET"],
          [":path", "/"],
          [":scheme", "http"],
          [":authority", "127.0.0.1"],
        ]),
        hpackLiteral("x-bomb", "b".repeat(3900), "incremental"),
        ...Array.from({ length: 200 }, () => hpackIndexed(62)),
      ]);
      conn.write(headers(1, block, { endStream: true }));
      const outcome = await conn.nextFrame((fr) => fr.streamId === 1 || isGoaway(fr), 5000);
      if (outcome.type === FrameType.HEADERS) assert.equal(conn.responseHeaders.get(1)?.find(([n]) => n === ":status")?.[1], "431");
      conn.close();
      assert.equal((await h2(await honestSession(), "/")).status, 200);
    });

    test("h2MaxSendBufSize: a peer that does not read holds at most the window plus the send buffer", { timeout: 30_000 }, async () => {
      const id = `sb${++endlessIds}`;
      const produced = async (): Promise<{ bytes: number; idleMs: number }> => JSON.parse((await h2(await honestSession(), `/h2/produced/${id}`)).text);
      const conn = await settled(port);
      conn.write(request(1, { path: `/h2/endless/${id}` }));
      await conn.nextFrame((fr) => fr.type === FrameType.DATA && fr.streamId === 1);
      // Stalled: the server has not pulled a chunk for 300 ms (polled, bounded).
      const stalled = await poll(produced, (p) => p.idleMs >= 300, 100, "the endless stream to stall for a peer that reads nothing");
      const window = 65_535;
      const chunk = 16 * 1024;
      assert.ok(stalled.bytes > 0);
      assert.ok(stalled.bytes <= window + LIMITS_CONFIG.h2MaxSendBufSize + 2 * chunk, `produced ${stalled.bytes} bytes for a peer that reads nothing`);
      conn.ackData(1, 1024 * 1024);
      const resumed = await poll(produced, (p) => p.bytes > stalled.bytes + 512 * 1024, 100, `writes to resume when the peer reads (stalled at ${stalled.bytes})`);
      assert.ok(resumed.bytes > stalled.bytes + 512 * 1024);
      conn.close();
    });

    test("rapid reset: streams opened and reset faster than answered end the connection", async () => {
      await withHonestClient(async () => {
        const conn = await settled(port, { keepFrames: false });
        const frames: Buffer[] = [];
        for (let i = 0; i < 2000; i++) {
          const id = 1 + 2 * i;
          frames.push(request(id, { path: "/h2/counted" }), rstStream(id, ErrorCode.CANCEL));
        }
        await conn.writeAll(frames);
        await conn.until(() => conn.goaways.length > 0 || conn.isClosed, 5000, "GOAWAY after rapid reset");
        // tako's h2MaxPendingAcceptResetStreams.
        assert.equal(conn.goaways[0]?.errorCode, ErrorCode.ENHANCE_YOUR_CALM, conn.summary());
        await conn.closed;
      });
    });

    for (const [name, make] of [
      ["SETTINGS flood (20,000 frames)", () => settings([[Setting.ENABLE_PUSH, 0]])],
      ["PING flood (20,000 frames)", () => ping(Buffer.from("floodme!"))],
    ] as const) {
      test(`${name} gets GOAWAY ENHANCE_YOUR_CALM and a closed connection`, async () => {
        await withHonestClient(async () => {
          const conn = await settled(port, { keepFrames: false });
          const one = make();
          const batch = Buffer.concat(Array.from({ length: 500 }, () => one));
          for (let i = 0; i < 40 && !conn.isClosed; i++) await conn.writeAll([batch]);
          await conn.until(() => conn.goaways.length > 0 || conn.isClosed, 5000, "GOAWAY after a control-frame flood");
          await conn.closed;
          // Node: tako's budget; Bun and Deno: tako's codec, whose budget is the only guard.
          assert.equal(conn.goaways[0]?.errorCode, ErrorCode.ENHANCE_YOUR_CALM, conn.summary());
        });
      });
    }

    test("CONTINUATION flood (10,000 frames, no END_HEADERS) closes the connection", async () => {
      await withHonestClient(async () => {
        const conn = await settled(port, { keepFrames: false });
        const start = encodeHeaders([
          [":method", "GET"],
          [":path", "/"],
          [":scheme", "http"],
          [":authority", "127.0.0.1"],
        ]);
        const frames = [headers(1, start, { endStream: true, endHeaders: false })];
        for (let i = 0; i < 10_000; i++) frames.push(continuation(1, encodeHeaders([[`x-c${i % 10}`, "v"]]), false));
        await conn.writeAll(frames);
        await conn.until(() => conn.isClosed, 5000, "close after a CONTINUATION flood");
        assert.equal(conn.responseHeaders.has(1), false);
      });
    });

    test("empty DATA frame flood closes the connection", async () => {
      await withHonestClient(async () => {
        const conn = await settled(port, { keepFrames: false });
        conn.write(request(1, { method: "POST", path: "/count", endStream: false }));
        await conn.writeAll(Array.from({ length: 10_000 }, () => data(1, Buffer.alloc(0))));
        await conn.until(() => conn.isClosed, 5000, "close after an empty-frame flood");
      });
    });

    test("an oversized frame gets GOAWAY FRAME_SIZE_ERROR", async () => {
      const conn = await settled(port);
      conn.write(Buffer.concat([frameHeader(1024 * 1024, FrameType.DATA, 0, 1), Buffer.alloc(1024)]));
      const away = await conn.nextFrame(isGoaway, 10_000);
      assert.equal(conn.goaways[0]?.errorCode, ErrorCode.FRAME_SIZE_ERROR, `${away.type} ${conn.summary()}`);
      conn.close();
    });

    test("h2KeepAliveInterval: the server PINGs, and closes a peer that never answers", { timeout: 20_000 }, async () => {
      const mute = await H2RawConn.connect(port, { autoAckPing: false });
      const answering = await H2RawConn.connect(port);
      // A first request each, so the header-read deadline is behind them.
      mute.write(request(1));
      answering.write(request(1));
      await mute.response(1);
      await answering.response(1);
      const isPing = (fr: Frame): boolean => fr.type === FrameType.PING && (fr.flags & Flag.ACK) === 0;
      await mute.nextFrame(isPing, 10_000);
      await mute.closed;
      // The peer that answers has been PINGed as long as the mute one, and is PINGed again after
      // the mute one was closed: still connected.
      const pingsBefore = answering.count(FrameType.PING);
      await answering.until(() => answering.count(FrameType.PING) >= pingsBefore + 1, 10_000, "a PING after the mute peer was closed");
      assert.equal(answering.isClosed, false, "a peer that answers stays connected");
      assert.ok(answering.count(FrameType.PING) >= 2, answering.summary());
      answering.close();
    });

    test("headerReadTimeout covers the preface and the first HEADERS", { timeout: 20_000 }, async () => {
      for (const sendPreface of [false, true]) {
        // Without the preface, not even a SETTINGS ACK: a silent client (an ACK alone is not a
        // preface, and an h2c-only port answers it with GOAWAY PROTOCOL_ERROR at once).
        const conn = await H2RawConn.connect(port, { sendPreface, autoAckSettings: sendPreface });
        const t0 = Date.now();
        const { at } = await conn.closed;
        const ms = at - t0;
        // Not before the deadline (1000 ms, less timer slack); that it comes at all is the test's timeout.
        assert.ok(ms >= 800, `closed after ${ms} ms (preface sent: ${sendPreface}, timeout 1000 ms)`);
      }
    });

    test("maxConnections counts HTTP/2 connections; one over the cap gets GOAWAY, then the slot frees", async () => {
      const conns: H2RawConn[] = [];
      let refused: H2RawConn | null = null;
      try {
        for (let i = 0; i < 20 && refused === null; i++) {
          const conn = await H2RawConn.connect(port);
          // A PING round trip: a GOAWAY the server sends with its SETTINGS comes before the ACK.
          conn.write(ping(Buffer.from("admitted")));
          const answer = await conn.nextFrame((fr) => isGoaway(fr) || (fr.type === FrameType.PING && (fr.flags & Flag.ACK) !== 0), 5000).catch((e: Error) => e);
          if (conn.goaways.length > 0 || answer instanceof Error) refused = conn;
          else conns.push(conn);
        }
        assert.ok(refused !== null, "a connection over maxConnections must be refused");
        // At the cap an idle connection over a second old is shed first (an earlier, idle
        // connection of this suite may be); the raw ones here are younger, so one over the cap
        // is refused with GOAWAY.
        assert.ok(conns.length <= LIMITS_CONFIG.maxConnections, `${conns.length} raw connections were admitted`);
        assert.equal(refused.goaways[0]?.lastStreamId, 0);
        assert.match(refused.goaways[0]?.debug ?? "", /connection limit/);
      } finally {
        for (const c of conns) c.close();
        refused?.close();
      }
      // The server sees the closes a moment later: retry (bounded) until a new connection is served.
      const served = await poll(
        () => h2(port, "/").catch((e: Error) => e),
        (r) => !(r instanceof Error) && r.status === 200,
        50,
        "a slot to free after the connections closed",
      );
      assert.ok(!(served instanceof Error));
    });

    test("HTTP/1.1 on the same port, chosen from the first bytes (also when they trickle in)", { skip: !http1 && "an h2c-only port" }, async () => {
      const conn = JSON.parse((await http(port, "/conn")).text);
      assert.equal(conn.httpVersion, "1.1");
      assert.equal(JSON.parse((await h2(await honestSession(), "/conn")).text).httpVersion, "2.0");
      assert.equal((await http(port, "/echo", { method: "POST", body: '{"x":1}' })).text, '{"x":1}');
      // The preface in two pieces, then a request in the same write as the rest of it.
      const split = await H2RawConn.connect(port, { sendPreface: false });
      split.write(Buffer.from("PRI * HTTP/2.0\r\n"));
      // On purpose: the rest goes out as a later packet.
      await new Promise((r) => setTimeout(r, 50));
      split.write(Buffer.concat([Buffer.from("\r\nSM\r\n\r\n"), settings(), request(1, { path: "/users/split" })]));
      assert.equal((await split.response(1)).body.toString(), '{"id":"split"}');
      split.close();
    });

    test("clients that reset mid-preface or before sending anything do not take the server down", async () => {
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((resolve) => {
          const s = new Socket();
          s.on("error", () => resolve());
          s.connect(port, "127.0.0.1", () => {
            if (i % 2 === 1) s.write("PRI * HTTP/2.0\r\n");
            // On purpose: the reset lands after the server has read the partial preface.
            setTimeout(() => {
              s.resetAndDestroy();
              resolve();
            }, 20);
          });
        });
      }
      // Answers on new connections after the resets, then the process is still there (a crash
      // on a reset is an uncaught error on that socket, reported when the server reads it).
      assert.equal((await h2(await honestSession(), "/")).status, 200);
      if (http1) assert.equal((await http(port, "/")).status, 200);
      assert.equal(f.child.exitCode, null, `the server died: ${f.stderr().slice(-500)}`);
    });

    // Last: it stops the fixture.
    test("drain: GOAWAY, the in-flight stream completes, new streams are refused, then the server exits", async () => {
      const conn = await settled(port);
      // A handler in flight for 800 ms on purpose; the fixture says when it started.
      conn.write(request(1, { path: "/h2/hold/800?tag=drain" }));
      await f.waitForLine(/^HOLDING drain$/);
      f.child.kill("SIGTERM");
      await conn.nextFrame(isGoaway, 10_000);
      assert.equal(conn.goaways[0]?.errorCode, ErrorCode.NO_ERROR);
      // A server may announce the drain with GOAWAY(2^31-1) first and the real last-stream-id after a PING.
      await conn.until(() => conn.goaways.some((g) => g.lastStreamId < 0x7fffffff), 10_000, "the final GOAWAY");
      assert.ok(
        conn.goaways.every((g) => g.lastStreamId >= 1),
        "the in-flight stream is covered by last-stream-id",
      );
      conn.write(request(3, { path: "/" }));
      const res = await conn.response(1, 10_000);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), "held 800");
      assert.equal(conn.responseHeaders.has(3), false, "a stream opened after GOAWAY is not served");
      await conn.closed;
      await f.waitForLine(/^STOPPED \d+$/, 15_000);
      assert.equal(await f.exited, 0);
    });
  });
}
