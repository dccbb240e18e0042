// tako's HTTP/2 codec against malformed and hostile input on real sockets: each violation gets
// the right GOAWAY or RST_STREAM code, the server never crashes, and an honest node:http2
// client on the same server keeps being served. Floods are bounded in count and time and target
// 127.0.0.1 only.
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
  frame,
  frameHeader,
  FrameType,
  goaway,
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
  windowUpdate,
} from "../_shared/h2-raw/index.ts";
import type { Start, Target } from "./_clients.ts";

const LIMITS = { maxConcurrentStreams: 5, maxHeaderListSize: 4096, maxPendingAcceptResetStreams: 10, settingsTimeout: 1000 };
const isGoaway = (f: Frame): boolean => f.type === FrameType.GOAWAY;
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const base: [string, string][] = [
  [":method", "GET"],
  [":scheme", "http"],
  [":authority", "127.0.0.1"],
  [":path", "/"],
];
const block = (list: [string, string][]): Buffer => encodeHeaders(list);
/** An open POST stream whose body the server never reads. */
const openUpload = (id: number): Buffer => request(id, { method: "POST", path: "/unread", endStream: false });

/** A raw connection whose SETTINGS exchange is complete. */
async function settled(port: number, opts: Parameters<typeof H2RawConn.connect>[1] = {}): Promise<H2RawConn> {
  const conn = await H2RawConn.connect(port, opts);
  await conn.nextFrame((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0);
  conn.write(ping(Buffer.from("settled!")));
  await conn.nextFrame((f) => f.type === FrameType.PING && (f.flags & Flag.ACK) !== 0);
  return conn;
}

type Expect = { goaway: number } | { rst: number; on: number };

/** [name, frames sent after the SETTINGS exchange, what the server answers]. */
const CASES: [string, Buffer[], Expect][] = [
  // Frame sizes and fixed lengths
  ["DATA over SETTINGS_MAX_FRAME_SIZE", [openUpload(1), Buffer.concat([frameHeader(16_385, FrameType.DATA, 0, 1), Buffer.alloc(16_385)])], { goaway: ErrorCode.FRAME_SIZE_ERROR }],
  ["HEADERS over SETTINGS_MAX_FRAME_SIZE", [frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, Buffer.alloc(20_000))], { goaway: ErrorCode.FRAME_SIZE_ERROR }],
  ["PRIORITY of length 4", [frame(FrameType.PRIORITY, 0, 1, Buffer.alloc(4))], { rst: ErrorCode.FRAME_SIZE_ERROR, on: 1 }],
  ["RST_STREAM of length 3", [openUpload(1), frame(FrameType.RST_STREAM, 0, 1, Buffer.alloc(3))], { goaway: ErrorCode.FRAME_SIZE_ERROR }],
  ["SETTINGS of length 5", [frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(5))], { goaway: ErrorCode.FRAME_SIZE_ERROR }],
  ["SETTINGS ACK with a payload", [frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(6))], { goaway: ErrorCode.FRAME_SIZE_ERROR }],
  ["PING of length 7", [frame(FrameType.PING, 0, 0, Buffer.alloc(7))], { goaway: ErrorCode.FRAME_SIZE_ERROR }],
  ["GOAWAY of length 7", [frame(FrameType.GOAWAY, 0, 0, Buffer.alloc(7))], { goaway: ErrorCode.FRAME_SIZE_ERROR }],
  ["WINDOW_UPDATE of length 3", [frame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.alloc(3))], { goaway: ErrorCode.FRAME_SIZE_ERROR }],
  // Stream 0 versus streams
  ["DATA on stream 0", [data(0, "x")], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["HEADERS on stream 0", [headers(0, block(base), { endStream: true })], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["PRIORITY on stream 0", [frame(FrameType.PRIORITY, 0, 0, Buffer.alloc(5))], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["RST_STREAM on stream 0", [rstStream(0, 0)], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["SETTINGS on stream 1", [frame(FrameType.SETTINGS, 0, 1, Buffer.alloc(0))], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["PING on stream 1", [frame(FrameType.PING, 0, 1, Buffer.alloc(8))], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["GOAWAY on stream 1", [frame(FrameType.GOAWAY, 0, 1, Buffer.alloc(8))], { goaway: ErrorCode.PROTOCOL_ERROR }],
  // Padding
  [
    "HEADERS with padding as long as its payload",
    [frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM | Flag.PADDED, 1, Buffer.from([10, 0x82, 0x86, 0x84]))],
    { goaway: ErrorCode.PROTOCOL_ERROR },
  ],
  ["DATA with padding as long as its payload", [openUpload(1), frame(FrameType.DATA, Flag.PADDED, 1, Buffer.from([3, 1, 2]))], { goaway: ErrorCode.PROTOCOL_ERROR }],
  // SETTINGS values
  ["SETTINGS_ENABLE_PUSH 2", [settings([[Setting.ENABLE_PUSH, 2]])], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["SETTINGS_INITIAL_WINDOW_SIZE 2^31", [settings([[Setting.INITIAL_WINDOW_SIZE, 2 ** 31]])], { goaway: ErrorCode.FLOW_CONTROL_ERROR }],
  ["SETTINGS_MAX_FRAME_SIZE 16383", [settings([[Setting.MAX_FRAME_SIZE, 16_383]])], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["SETTINGS_MAX_FRAME_SIZE 2^24", [settings([[Setting.MAX_FRAME_SIZE, 2 ** 24]])], { goaway: ErrorCode.PROTOCOL_ERROR }],
  [
    "SETTINGS_INITIAL_WINDOW_SIZE overflowing an open stream's window",
    [openUpload(1), windowUpdate(1, 2 ** 31 - 1 - 65_535), settings([[Setting.INITIAL_WINDOW_SIZE, 65_536]])],
    { goaway: ErrorCode.FLOW_CONTROL_ERROR },
  ],
  // WINDOW_UPDATE
  ["WINDOW_UPDATE of 0 on the connection", [windowUpdate(0, 0)], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["WINDOW_UPDATE of 0 on a stream", [openUpload(1), windowUpdate(1, 0)], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["WINDOW_UPDATE overflowing the connection window", [windowUpdate(0, 2 ** 31 - 1)], { goaway: ErrorCode.FLOW_CONTROL_ERROR }],
  ["WINDOW_UPDATE overflowing a stream window", [openUpload(1), windowUpdate(1, 2 ** 31 - 1)], { rst: ErrorCode.FLOW_CONTROL_ERROR, on: 1 }],
  ["WINDOW_UPDATE on an idle stream", [windowUpdate(7, 1)], { goaway: ErrorCode.PROTOCOL_ERROR }],
  // Stream states and ids
  ["DATA on an idle stream", [data(1, "x")], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["RST_STREAM on an idle stream", [rstStream(1, ErrorCode.CANCEL)], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["HEADERS on an even stream id", [headers(2, block(base), { endStream: true })], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["a stream id lower than one used", [request(5, { path: "/slow" }), request(3)], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["HEADERS on a closed stream", [request(1), ping(Buffer.alloc(8)), request(1)], { goaway: ErrorCode.STREAM_CLOSED }],
  ["DATA after END_STREAM on a stream still answering", [request(1, { path: "/slow" }), data(1, "late")], { rst: ErrorCode.STREAM_CLOSED, on: 1 }],
  ["PUSH_PROMISE from a client", [frame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, Buffer.concat([u32(2), block(base)]))], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["HEADERS depending on itself", [headers(1, block(base), { endStream: true, priority: { dependency: 1, weight: 16 } })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["PRIORITY depending on itself", [frame(FrameType.PRIORITY, 0, 1, Buffer.concat([u32(1), Buffer.from([16])]))], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  // CONTINUATION
  ["CONTINUATION without HEADERS", [continuation(1, block(base), true)], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["a PING inside a header block", [headers(1, block(base), { endStream: true, endHeaders: false }), ping(Buffer.alloc(8))], { goaway: ErrorCode.PROTOCOL_ERROR }],
  ["CONTINUATION on another stream", [headers(1, block(base), { endStream: true, endHeaders: false }), continuation(3, block([]), true)], { goaway: ErrorCode.PROTOCOL_ERROR }],
  // HPACK
  ["HPACK index 0", [headers(1, Buffer.from([0x80]), { endStream: true })], { goaway: ErrorCode.COMPRESSION_ERROR }],
  ["HPACK index beyond the table", [headers(1, Buffer.from([0x82, 0xff, 0x10]), { endStream: true })], { goaway: ErrorCode.COMPRESSION_ERROR }],
  [
    "HPACK Huffman string holding EOS",
    [headers(1, Buffer.concat([Buffer.from([0x82, 0x86, 0x84, 0x01, 0x84]), Buffer.from([0xff, 0xff, 0xff, 0xff])]), { endStream: true })],
    { goaway: ErrorCode.COMPRESSION_ERROR },
  ],
  [
    "HPACK table size update over SETTINGS_HEADER_TABLE_SIZE",
    [headers(1, Buffer.concat([Buffer.from([0x3f, 0xe2, 0x1f]), block(base)]), { endStream: true })],
    { goaway: ErrorCode.COMPRESSION_ERROR },
  ],
  // Request header rules: stream errors
  ["an upper-case field name", [headers(1, block([...base, ["X-Upper", "1"]]), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["a pseudo-header after a regular field", [headers(1, block([base[0]!, ["x-a", "1"], ...base.slice(1)]), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["no :path", [headers(1, block(base.slice(0, 3)), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["an empty :path", [headers(1, block([...base.slice(0, 3), [":path", ""]]), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["two :method", [headers(1, block([[":method", "GET"], ...base]), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  [":status in a request", [headers(1, block([...base, [":status", "200"]]), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["an unknown pseudo-header", [headers(1, block([...base, [":protocol", "websocket"]]), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["connection: keep-alive", [headers(1, block([...base, ["connection", "keep-alive"]]), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["transfer-encoding: chunked", [headers(1, block([...base, ["transfer-encoding", "chunked"]]), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["te: gzip", [headers(1, block([...base, ["te", "gzip"]]), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["a value with a line feed", [headers(1, block([...base, ["x-a", "a\nb"]]), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["content-length without DATA", [headers(1, block([...base, ["content-length", "5"]]), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  [
    "content-length larger than the DATA",
    [request(1, { method: "POST", path: "/echo", headers: [["content-length", "5"]], endStream: false }), data(1, "abc", true)],
    { rst: ErrorCode.PROTOCOL_ERROR, on: 1 },
  ],
  [
    "content-length smaller than the DATA",
    [request(1, { method: "POST", path: "/echo", headers: [["content-length", "2"]], endStream: false }), data(1, "abc", true)],
    { rst: ErrorCode.PROTOCOL_ERROR, on: 1 },
  ],
  ["an invalid content-length", [request(1, { method: "POST", path: "/echo", headers: [["content-length", "1x"]], endStream: false })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  ["trailers with a pseudo-header", [openUpload(1), data(1, "abc"), headers(1, block([[":path", "/"]]), { endStream: true })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  [
    "trailers with a connection-specific field",
    [openUpload(1), data(1, "abc"), headers(1, block([["connection", "close"]]), { endStream: true })],
    { rst: ErrorCode.PROTOCOL_ERROR, on: 1 },
  ],
  ["trailers without END_STREAM", [openUpload(1), data(1, "abc"), headers(1, block([["x-t", "1"]]), { endStream: false })], { rst: ErrorCode.PROTOCOL_ERROR, on: 1 }],
  // Flow control
  ["DATA over the stream window", [openUpload(1), ...Array.from({ length: 17 }, () => data(1, Buffer.alloc(16_384)))], { rst: ErrorCode.FLOW_CONTROL_ERROR, on: 1 }],
  [
    "DATA over the connection window",
    [1, 3, 5, 7].flatMap((id) => [openUpload(id), ...Array.from({ length: 16 }, () => data(id, Buffer.alloc(16_384)))]).concat([openUpload(9), data(9, "x")]),
    { goaway: ErrorCode.FLOW_CONTROL_ERROR },
  ],
];

export function violationsSuite(runtime: string, start: Start): void {
  describe(`the codec refuses malformed input with the right code (${runtime})`, () => {
    let s: Target;
    let session: ClientHttp2Session;
    before(async () => {
      s = await start(LIMITS);
      session = await h2Session(s.port);
    });
    after(async () => {
      session.destroy();
      await s.stop();
    });

    for (const [name, frames, expect] of CASES) {
      test(`${name}: ${"goaway" in expect ? `GOAWAY ${errorName(expect.goaway)}` : `RST_STREAM ${errorName(expect.rst)}`}`, async () => {
        const conn = await settled(s.port);
        try {
          await conn.writeAll(frames);
          if ("goaway" in expect) {
            await conn.nextFrame(isGoaway, 5000);
            assert.equal(errorName(conn.goaways[0]!.errorCode), errorName(expect.goaway), conn.summary());
            await conn.closed;
          } else {
            await conn.nextFrame((f) => f.type === FrameType.RST_STREAM && f.streamId === expect.on, 5000);
            assert.equal(errorName(conn.resets.get(expect.on)!), errorName(expect.rst), conn.summary());
            // The connection lives on: a new stream is served.
            const id = 101;
            conn.write(request(id));
            assert.equal((await conn.response(id)).status, 200, conn.summary());
            assert.equal(conn.goaways.length, 0);
          }
        } finally {
          conn.close();
        }
        assert.equal((await h2(session, "/")).status, 200, "an honest client is served");
      });
    }

    test("valid: te: trailers, unknown frame types and extension settings are accepted", async () => {
      const conn = await settled(s.port);
      conn.write(
        Buffer.concat([frame(0xfa, 0xff, 0, Buffer.from("ext")), settings([[0x99, 7]]), frame(0xfb, 0, 1, Buffer.alloc(3)), request(1, { headers: [["te", "trailers"]] })]),
      );
      assert.equal((await conn.response(1)).status, 200, conn.summary());
      // A request with a body, a correct content-length and trailers.
      conn.write(
        Buffer.concat([
          request(3, { method: "POST", path: "/echo", headers: [["content-length", "6"]], endStream: false }),
          data(3, "abc"),
          data(3, "def"),
          headers(3, block([["x-sum", "1"]]), { endStream: true }),
        ]),
      );
      const echo = await conn.response(3);
      assert.equal(echo.body.toString(), "abcdef");
      // Padded HEADERS and DATA.
      conn.write(
        Buffer.concat([
          headers(5, block([...base.slice(0, 3), [":path", "/echo"]]), { padLength: 7 }),
          frame(FrameType.DATA, Flag.PADDED | Flag.END_STREAM, 5, Buffer.from([2, 0x68, 0x69, 0, 0])),
        ]),
      );
      assert.equal((await conn.response(5)).body.toString(), "hi");
      // A header block in three pieces.
      const whole = block(base);
      conn.write(
        Buffer.concat([
          headers(7, whole.subarray(0, 5), { endStream: true, endHeaders: false }),
          continuation(7, whole.subarray(5, 12), false),
          continuation(7, whole.subarray(12), true),
        ]),
      );
      assert.equal((await conn.response(7)).status, 200);
      assert.equal(conn.goaways.length, 0, conn.summary());
      conn.close();
    });

    test("an invalid preface gets GOAWAY PROTOCOL_ERROR; so does a first frame other than SETTINGS", async () => {
      const http1 = await H2RawConn.connect(s.port, { sendPreface: false });
      http1.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      await http1.closed;
      assert.equal(http1.goaways[0]?.errorCode, ErrorCode.PROTOCOL_ERROR, http1.summary());
      const noSettings = await H2RawConn.connect(s.port, { sendPreface: false });
      noSettings.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), ping(Buffer.alloc(8))]));
      await noSettings.closed;
      assert.equal(noSettings.goaways[0]?.errorCode, ErrorCode.PROTOCOL_ERROR, noSettings.summary());
    });

    test("h2MaxHeaderListSize: an oversized header list gets 431 on that stream; the connection survives", async () => {
      const conn = await settled(s.port);
      assert.equal(conn.serverSettings?.get(Setting.MAX_HEADER_LIST_SIZE), 4096);
      conn.write(request(1, { path: "/", headers: [["x-big", "a".repeat(6000)]] }));
      const res = await conn.response(1);
      assert.equal(res.status, 431);
      assert.equal(res.body.toString(), "Request Header Fields Too Large");
      conn.write(request(3));
      assert.equal((await conn.response(3)).status, 200);
      // HPACK bomb: one indexed 3.9 KB field repeated 200 times.
      const bomb = Buffer.concat([block(base), hpackLiteral("x-bomb", "b".repeat(3900), "incremental"), ...Array.from({ length: 200 }, () => hpackIndexed(62))]);
      conn.write(headers(5, bomb, { endStream: true }));
      assert.equal((await conn.response(5)).status, 431);
      conn.write(request(7));
      assert.equal((await conn.response(7)).status, 200);
      conn.close();
    });

    test("h2MaxConcurrentStreams: a stream beyond the limit gets RST_STREAM REFUSED_STREAM; the others are served", async () => {
      const conn = await settled(s.port);
      assert.equal(conn.serverSettings?.get(Setting.MAX_CONCURRENT_STREAMS), 5);
      for (let i = 0; i < 5; i++) conn.write(request(1 + 2 * i, { path: "/slow" }));
      conn.write(request(11));
      await conn.nextFrame((f) => f.type === FrameType.RST_STREAM && f.streamId === 11);
      assert.equal(conn.resets.get(11), ErrorCode.REFUSED_STREAM);
      for (let i = 0; i < 5; i++) assert.equal((await conn.response(1 + 2 * i)).status, 200);
      // Slots free again.
      conn.write(request(13));
      assert.equal((await conn.response(13)).status, 200);
      conn.close();
    });

    test("CONNECT is answered 405 by the codec; a CONNECT without :authority is malformed", async () => {
      const conn = await settled(s.port);
      conn.write(
        headers(
          1,
          block([
            [":method", "CONNECT"],
            [":authority", "example.com:443"],
          ]),
          { endStream: true },
        ),
      );
      assert.equal((await conn.response(1)).status, 405);
      conn.write(
        headers(
          3,
          block([
            [":method", "CONNECT"],
            [":authority", "example.com:443"],
            [":path", "/"],
          ]),
          { endStream: true },
        ),
      );
      await conn.nextFrame((f) => f.type === FrameType.RST_STREAM && f.streamId === 3);
      assert.equal(conn.resets.get(3), ErrorCode.PROTOCOL_ERROR);
      conn.close();
    });

    test("graceful GOAWAY: the stream in flight completes, a newer one is refused, then the connection closes", async () => {
      const conn = await settled(s.port);
      conn.write(request(1, { path: "/slow" }));
      await new Promise((r) => setTimeout(r, 20)); // the HEADERS reach the server first
      assert.equal((await h2(s.port, "/goaway-all")).text, "bye");
      await conn.nextFrame(isGoaway);
      assert.deepEqual(conn.goaways[0], { lastStreamId: 1, errorCode: ErrorCode.NO_ERROR, debug: "" });
      conn.write(request(3));
      const res = await conn.response(1);
      assert.equal(res.body.toString(), "slow");
      await conn.closed;
      assert.equal(conn.responseHeaders.has(3), false);
      session.destroy();
      session = await h2Session(s.port);
    });

    test("settingsTimeout: a client that never acknowledges our SETTINGS gets GOAWAY SETTINGS_TIMEOUT from the owner's sweep", async () => {
      const t0 = Date.now();
      const conn = await H2RawConn.connect(s.port, { autoAckSettings: false });
      conn.write(request(1));
      assert.equal((await conn.response(1)).status, 200, "served meanwhile");
      await conn.nextFrame(isGoaway, 5000);
      assert.equal(errorName(conn.goaways[0]!.errorCode), "SETTINGS_TIMEOUT", conn.summary());
      assert.ok(Date.now() - t0 >= 900, `after ${Date.now() - t0} ms`);
      await conn.closed;
    });

    test("a client GOAWAY: streams in flight finish, then the server closes", async () => {
      const conn = await settled(s.port);
      conn.write(Buffer.concat([request(1, { path: "/slow" }), goaway(1, ErrorCode.NO_ERROR)]));
      assert.equal((await conn.response(1)).body.toString(), "slow");
      await conn.closed;
    });
  });

  describe(`floods are bounded: GOAWAY ENHANCE_YOUR_CALM while an honest client is served (${runtime})`, () => {
    let s: Target;
    let session: ClientHttp2Session;
    before(async () => {
      s = await start(LIMITS);
      session = await h2Session(s.port);
    });
    after(async () => {
      session.destroy();
      await s.stop();
    });

    async function withHonestClient(attack: () => Promise<void>): Promise<void> {
      let stop = false;
      let served = 0;
      const failures: string[] = [];
      const loop = (async () => {
        while (!stop) {
          const r = await h2(session, "/users/honest").catch((e: Error) => e);
          if (r instanceof Error || r.status !== 200) failures.push(r instanceof Error ? r.message : String(r.status));
          else served++;
          await new Promise((res) => setTimeout(res, 20));
        }
      })();
      try {
        await attack();
      } finally {
        stop = true;
        await loop;
      }
      assert.deepEqual(failures, []);
      assert.ok(served > 0);
    }

    async function flood(frames: Buffer[], opener: Buffer | null = null): Promise<H2RawConn> {
      const conn = await settled(s.port, { keepFrames: false });
      if (opener !== null) conn.write(opener);
      const t0 = Date.now();
      // Bounded: the frames given, in batches, stopping when the server closes or after 10 s.
      for (let i = 0; i < frames.length && !conn.isClosed && Date.now() - t0 < 10_000; i += 500) await conn.writeAll([Buffer.concat(frames.slice(i, i + 500))]);
      await conn.until(() => conn.goaways.length > 0 || conn.isClosed, 5000, "GOAWAY after a flood");
      await conn.closed;
      return conn;
    }

    const many = (n: number, make: (i: number) => Buffer): Buffer[] => Array.from({ length: n }, (_, i) => make(i));

    for (const [name, frames, opener, why] of [
      ["PING flood (20,000)", many(20_000, () => ping(Buffer.from("floodme!"))), null, /PING flood/],
      ["SETTINGS flood (20,000)", many(20_000, () => settings([[Setting.ENABLE_PUSH, 0]])), null, /SETTINGS flood/],
      ["empty DATA flood (10,000)", many(10_000, () => data(1, Buffer.alloc(0))), openUpload(1), /do no work/],
      ["PRIORITY flood (10,000)", many(10_000, (i) => frame(FrameType.PRIORITY, 0, 1 + 2 * (i % 1000), Buffer.from([0, 0, 0, 0, 16]))), null, /do no work/],
      [
        "zero-length CONTINUATION flood (10,000)",
        many(10_000, () => continuation(1, Buffer.alloc(0), false)),
        headers(1, block(base), { endStream: true, endHeaders: false }),
        /do no work/,
      ],
      ["unknown frame type flood (10,000)", many(10_000, () => frame(0xfa, 0, 0, Buffer.alloc(1))), null, /do no work/],
      ["WINDOW_UPDATE flood on an open stream (10,000 of 1 octet)", many(10_000, () => windowUpdate(1, 1)), openUpload(1), /do no work/],
      ["WINDOW_UPDATE flood on the connection (10,000, nothing sent)", many(10_000, () => windowUpdate(0, 2000)), null, /do no work/],
    ] as const) {
      test(name, async () => {
        await withHonestClient(async () => {
          const conn = await flood([...frames], opener);
          assert.equal(errorName(conn.goaways[0]?.errorCode ?? -1), "ENHANCE_YOUR_CALM", conn.summary());
          assert.match(conn.goaways[0]!.debug, why);
        });
      });
    }

    test("CONTINUATION flood with content (10,000 frames): the header block is bounded", async () => {
      await withHonestClient(async () => {
        const conn = await flood(
          many(10_000, (i) => continuation(1, encodeHeaders([[`x-c${i % 10}`, "v"]]), false)),
          headers(1, block(base), { endStream: true, endHeaders: false }),
        );
        assert.equal(errorName(conn.goaways[0]?.errorCode ?? -1), "ENHANCE_YOUR_CALM", conn.summary());
        assert.equal(conn.responseHeaders.has(1), false);
      });
    });

    test("rapid reset (2,000 streams opened and reset before their response)", async () => {
      await withHonestClient(async () => {
        const conn = await flood(many(2000, (i) => Buffer.concat([request(1 + 2 * i, { path: "/slow" }), rstStream(1 + 2 * i, ErrorCode.CANCEL)])));
        assert.equal(errorName(conn.goaways[0]?.errorCode ?? -1), "ENHANCE_YOUR_CALM", conn.summary());
      });
    });

    test("provoked resets (MadeYouReset: a zero WINDOW_UPDATE on each stream in flight) count like rapid reset", async () => {
      await withHonestClient(async () => {
        const conn = await flood(many(2000, (i) => Buffer.concat([request(1 + 2 * i, { path: "/slow" }), windowUpdate(1 + 2 * i, 0)])));
        assert.equal(errorName(conn.goaways[0]?.errorCode ?? -1), "ENHANCE_YOUR_CALM", conn.summary());
        assert.match(conn.goaways[0]!.debug, /reset before their response/);
      });
    });

    test("malformed requests (2,000, each answered RST_STREAM) count as frames that do no work", async () => {
      await withHonestClient(async () => {
        const conn = await flood(many(2000, (i) => headers(1 + 2 * i, block([...base, ["X-Upper", "1"]]), { endStream: true })));
        assert.equal(errorName(conn.goaways[0]?.errorCode ?? -1), "ENHANCE_YOUR_CALM", conn.summary());
        assert.match(conn.goaways[0]!.debug, /do no work/);
      });
    });

    test("streams reset after their response do not count", async () => {
      const conn = await settled(s.port);
      for (let i = 0; i < 40; i++) {
        const id = 1 + 2 * i;
        conn.write(request(id));
        await conn.response(id);
        conn.write(rstStream(id, ErrorCode.CANCEL));
      }
      conn.write(request(1001));
      assert.equal((await conn.response(1001)).status, 200);
      assert.equal(conn.goaways.length, 0, conn.summary());
      conn.close();
    });
  });
}
