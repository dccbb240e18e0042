// H2ServerConnection without sockets: a recording handler, client frames built by hand, the
// server's output parsed back. Flow control both ways, frame sizes, CONTINUATION on the way out,
// the socket's backpressure, input split at every point, and random input.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  data,
  Flag,
  frame,
  FrameType,
  headers,
  hpackIndexed,
  hpackLiteral,
  HpackDecoder as ClientDecoder,
  PREFACE,
  request,
  rstStream,
  Setting,
  settings,
  windowUpdate,
} from "../_shared/h2-raw/index.ts";
import { H2Code, type H2RequestHead, H2ServerConnection } from "../../src/core/http2/index.ts";
import { dataBytes, harness } from "./_harness.ts";

describe("H2ServerConnection", () => {
  test("DATA still in flight on streams answered before their body (RST_STREAM NO_ERROR) is not a flood: 3,000 such streams, the connection lives", () => {
    // Each POST is answered at once; its body arrives after the server's RST_STREAM NO_ERROR.
    const h = harness({}, (c, id) => c.respond(id, 200, ["content-length", "0"], true));
    h.open();
    for (let i = 0; i < 3000; i++) {
      const id = 1 + 2 * i;
      h.conn.receive(request(id, { method: "POST", path: "/none", endStream: false }));
      h.conn.receive(data(id, Buffer.from("{}"), true));
    }
    const out = h.frames();
    assert.equal(out.filter((f) => f.type === FrameType.GOAWAY).length, 0, "no GOAWAY");
    assert.equal(out.filter((f) => f.type === FrameType.RST_STREAM && f.payload.readUInt32BE(0) === H2Code.NO_ERROR).length, 3000);
    assert.equal(h.closed(), undefined);
  });

  test("server preface: SETTINGS with our limits, then the connection window", () => {
    const h = harness({ maxConcurrentStreams: 7, maxHeaderListSize: 999, initialWindowSize: 100_000, connectionWindowSize: 200_000 });
    const [s, wu] = h.frames();
    assert.equal(s?.type, FrameType.SETTINGS);
    const values = new Map<number, number>();
    for (let i = 0; i < s!.payload.length; i += 6) values.set(s!.payload.readUInt16BE(i), s!.payload.readUInt32BE(i + 2));
    assert.deepEqual(
      values,
      new Map([
        [Setting.MAX_CONCURRENT_STREAMS, 7],
        [Setting.INITIAL_WINDOW_SIZE, 100_000],
        [Setting.MAX_HEADER_LIST_SIZE, 999],
        [Setting.ENABLE_PUSH, 0],
      ]),
    );
    assert.equal(wu?.type, FrameType.WINDOW_UPDATE);
    assert.equal(wu?.payload.readUInt32BE(0), 200_000 - 65_535);
    assert.equal(h.conn.settingsAcknowledged, false);
    h.conn.receive(Buffer.concat([PREFACE, settings(), frame(FrameType.SETTINGS, Flag.ACK, 0)]));
    assert.equal(h.conn.settingsAcknowledged, true);
  });

  test("receive windows: WINDOW_UPDATE only as the application consumes, half a window at a time", () => {
    const h = harness({ initialWindowSize: 65_536, connectionWindowSize: 65_536 * 4 });
    h.frames();
    h.open();
    h.conn.receive(Buffer.concat([request(1, { method: "POST", path: "/up", endStream: false }), data(1, Buffer.alloc(16_384)), data(1, Buffer.alloc(16_384))]));
    assert.deepEqual(h.events, ["request 1 POST /up", "data 1 16384", "data 1 16384"]);
    assert.deepEqual(h.frames(), [], "nothing consumed, nothing returned");
    h.conn.consume(1, 16_384);
    assert.deepEqual(h.frames(), []);
    h.conn.consume(1, 16_384);
    const wu = h.frames();
    assert.deepEqual(
      wu.map((f) => [f.id, f.payload.readUInt32BE(0)]),
      [[1, 32_768]],
      "the stream's half window goes back; the connection's is not at half yet",
    );
    // The stream window is full again: 65,536 more octets are accepted, one more is not.
    h.conn.receive(
      Buffer.concat([data(1, Buffer.alloc(16_384)), data(1, Buffer.alloc(16_384)), data(1, Buffer.alloc(16_384)), data(1, Buffer.alloc(16_384)), data(1, Buffer.alloc(1))]),
    );
    const rst = h.frames().find((f) => f.type === FrameType.RST_STREAM);
    assert.equal(rst?.payload.readUInt32BE(0), H2Code.FLOW_CONTROL_ERROR);
    assert.equal(h.events.at(-1), `reset 1 ${H2Code.FLOW_CONTROL_ERROR}`);
    // The octets the application never consumed come back to the connection window.
    // 98,305 octets came back so far; 32,768 more pass half the connection window (131,072).
    h.conn.receive(Buffer.concat([request(3, { method: "POST", path: "/up", endStream: false }), data(3, Buffer.alloc(16_384)), data(3, Buffer.alloc(16_384))]));
    h.conn.consume(3, 32_768);
    const back = h.frames().filter((f) => f.type === FrameType.WINDOW_UPDATE && f.id === 0);
    assert.ok(back.length > 0, "the connection window was returned");
  });

  test("send windows: a response waits for the stream and connection windows; SETTINGS changes open streams", () => {
    const body = Buffer.alloc(100_000, 7);
    const h = harness({}, (c, id) => {
      c.respond(id, 200, ["content-type", "x"]);
      c.sendData(id, body, true);
    });
    h.open();
    h.conn.receive(request(1));
    let out = h.frames();
    assert.equal(dataBytes(out, 1), 65_535, "the default windows");
    assert.ok(out.filter((f) => f.type === FrameType.DATA).every((f) => f.payload.length <= 16_384));
    // A larger stream window through SETTINGS: still held by the connection window.
    h.conn.receive(settings([[Setting.INITIAL_WINDOW_SIZE, 1_000_000]]));
    out = h.frames();
    assert.deepEqual(
      out.map((f) => f.type),
      [FrameType.SETTINGS],
    );
    // The connection window opens, and the peer allows larger frames.
    h.conn.receive(Buffer.concat([settings([[Setting.MAX_FRAME_SIZE, 65_536]]), windowUpdate(0, 1_000_000)]));
    out = h.frames();
    assert.equal(dataBytes(out, 1), 100_000 - 65_535);
    const last = out.filter((f) => f.type === FrameType.DATA).at(-1)!;
    assert.equal(last.flags & Flag.END_STREAM, Flag.END_STREAM);
    assert.equal(last.payload.length, 100_000 - 65_535, "one frame up to the peer's MAX_FRAME_SIZE");
    // A negative window after a SETTINGS decrease: nothing is sent until it is positive again.
    h.conn.receive(Buffer.concat([settings([[Setting.INITIAL_WINDOW_SIZE, 65_535]]), request(3)]));
    assert.equal(dataBytes(h.frames(), 3), 65_535, "stream 3 used its whole window");
    h.conn.receive(settings([[Setting.INITIAL_WINDOW_SIZE, 0]])); // its window is now -65,535
    h.conn.receive(windowUpdate(3, 65_535));
    assert.equal(dataBytes(h.frames(), 3), 0, "back to 0: still nothing");
    h.conn.receive(windowUpdate(3, 100));
    assert.equal(dataBytes(h.frames(), 3), 100);
    h.conn.receive(settings([[Setting.INITIAL_WINDOW_SIZE, 65_535]]));
    assert.equal(dataBytes(h.frames(), 3), 100_000 - 65_535 - 100, "the increase opens the stream again");
  });

  test("a large response header block is split into HEADERS and CONTINUATION frames", () => {
    const big = "v".repeat(40_000);
    const h = harness({}, (c, id) => {
      c.respond(id, 200, ["x-big", big, "x-small", "s"], true);
    });
    h.open();
    h.conn.receive(request(1));
    const out = h.frames();
    assert.deepEqual(
      out.map((f) => [f.type, f.flags, f.payload.length <= 16_384]),
      [
        [FrameType.HEADERS, Flag.END_STREAM, true],
        [FrameType.CONTINUATION, 0, true],
        [FrameType.CONTINUATION, Flag.END_HEADERS, true],
      ],
    );
    const decoded = new ClientDecoder().decode(Buffer.concat(out.map((f) => f.payload)));
    assert.deepEqual(decoded, [
      [":status", "200"],
      ["x-big", big],
      ["x-small", "s"],
    ]);
    assert.equal(h.conn.streamCount, 0, "both sides ended: the stream is closed");
  });

  test("backpressure: sendData says wait past maxSendBufSize, onDrain when the backlog is written; the socket holds DATA", () => {
    const h = harness({ maxSendBufSize: 10_000 }, (c, id) => c.respond(id, 200, []));
    h.open();
    h.conn.receive(Buffer.concat([settings([[Setting.INITIAL_WINDOW_SIZE, 0]]), request(1)]));
    h.frames();
    assert.equal(h.conn.sendData(1, new Uint8Array(8_000)), true);
    assert.equal(h.conn.sendData(1, new Uint8Array(8_000)), false);
    assert.equal(h.events.includes("drain 1"), false);
    h.conn.setWritable(false);
    h.conn.receive(windowUpdate(1, 100_000));
    assert.equal(dataBytes(h.frames(), 1), 0, "the socket is full: DATA waits");
    h.conn.setWritable(true);
    assert.equal(dataBytes(h.frames(), 1), 16_000);
    assert.equal(h.events.at(-1), "drain 1");
  });

  test("a large window is written in pieces of about 64 KiB, each after the socket said it takes more", () => {
    const writes: number[] = [];
    let full = false;
    const conn: H2ServerConnection = new H2ServerConnection({
      write: (b) => {
        writes.push(b.length);
        if (full) conn.setWritable(false);
      },
      onRequest: (id) => {
        conn.respond(id, 200, []);
        conn.sendData(id, new Uint8Array(1024 * 1024), true);
      },
      onData: () => {},
      onEnd: () => {},
      onReset: () => {},
      onDrain: () => {},
      onClose: () => {},
    });
    conn.start();
    conn.receive(Buffer.concat([PREFACE, settings([[Setting.INITIAL_WINDOW_SIZE, 2 ** 31 - 1]]), windowUpdate(0, 2 ** 31 - 1 - 65_535)]));
    writes.length = 0;
    full = true;
    conn.receive(request(1));
    assert.equal(writes.length, 1, "the socket said it is full after the first piece");
    assert.ok(writes[0]! >= 64 * 1024 && writes[0]! < 64 * 1024 + 16_384 + 100, `first write ${writes[0]}`);
    full = false;
    conn.setWritable(true);
    const total = writes.reduce((a, b) => a + b, 0);
    assert.ok(total > 1024 * 1024, `${total} octets written`);
    assert.ok(Math.max(...writes) < 64 * 1024 + 16_384 + 100, `largest write ${Math.max(...writes)}`);
  });

  test("trailers, 1xx, reset by the application, and writes after a reset", () => {
    const h = harness({}, (c, id) => {
      c.respond(id, 103, ["link", "</a>; rel=preload"]);
      c.respond(id, 200, []);
      if (id === 1) {
        c.sendData(id, new Uint8Array(3));
        c.sendTrailers(id, ["x-t", "1"]);
      } else c.reset(id, H2Code.INTERNAL_ERROR);
    });
    h.open();
    h.conn.receive(request(1));
    const out = h.frames();
    const dec = new ClientDecoder();
    assert.deepEqual(
      out.map((f) => [f.type, f.flags & Flag.END_STREAM]),
      [
        [FrameType.HEADERS, 0],
        [FrameType.HEADERS, 0],
        [FrameType.DATA, 0],
        [FrameType.HEADERS, Flag.END_STREAM],
      ],
    );
    assert.deepEqual(dec.decode(out[0]!.payload), [
      [":status", "103"],
      ["link", "</a>; rel=preload"],
    ]);
    dec.decode(out[1]!.payload);
    assert.deepEqual(dec.decode(out[3]!.payload), [["x-t", "1"]]);
    h.conn.receive(request(3));
    const reset = h.frames().at(-1)!;
    assert.equal(reset.type, FrameType.RST_STREAM);
    assert.equal(reset.payload.readUInt32BE(0), H2Code.INTERNAL_ERROR);
    assert.equal(h.conn.sendData(3, new Uint8Array(1), true), true, "a write to a reset stream is dropped");
    assert.equal(h.conn.respond(3, 200, []), false);
    assert.deepEqual(h.frames(), []);
  });

  test("a response complete before the request: RST_STREAM NO_ERROR, later DATA ignored and its window returned", () => {
    const h = harness({ connectionWindowSize: 65_535 * 2 }, (c, id) => {
      c.respond(id, 413, []);
      c.sendData(id, new Uint8Array(2), true);
    });
    h.open();
    h.conn.receive(request(1, { method: "POST", path: "/up", endStream: false }));
    const out = h.frames();
    assert.deepEqual(
      out.map((f) => [f.type, f.flags & Flag.END_STREAM]),
      [
        [FrameType.HEADERS, 0],
        [FrameType.DATA, Flag.END_STREAM],
        [FrameType.RST_STREAM, 0],
      ],
    );
    assert.equal(out[2]!.payload.readUInt32BE(0), H2Code.NO_ERROR);
    assert.deepEqual(h.events, ["request 1 POST /up", `reset 1 ${H2Code.NO_ERROR}`]);
    assert.equal(h.conn.streamCount, 0);
    // DATA already in flight is ignored, and its octets return to the connection window.
    for (let i = 0; i < 8; i++) h.conn.receive(data(1, Buffer.alloc(16_384)));
    assert.equal(h.closed(), undefined, "no connection error");
    assert.ok(h.frames().some((f) => f.type === FrameType.WINDOW_UPDATE && f.id === 0));
  });

  test("a refused HEADERS still updates the HPACK table (self-dependency, malformed request)", () => {
    const h = harness();
    h.open();
    const rest = Buffer.from([0x82, 0x86, 0x41, 0x09, ...Buffer.from("127.0.0.1")]);
    // Stream 1 depends on itself; its block adds ":path: /dyn" to the table.
    h.conn.receive(headers(1, Buffer.concat([rest, hpackLiteral(4, "/dyn", "incremental")]), { endStream: true, priority: { dependency: 1, weight: 15 } }));
    // Stream 3 is malformed (an upper-case name); its block adds "x-k: v".
    h.conn.receive(headers(3, Buffer.concat([hpackIndexed(62), hpackLiteral("x-k", "v", "incremental"), hpackLiteral("X-Bad", "1")]), { endStream: true }));
    const resets = h.frames().filter((f) => f.type === FrameType.RST_STREAM);
    assert.deepEqual(
      resets.map((f) => [f.id, f.payload.readUInt32BE(0)]),
      [
        [1, H2Code.PROTOCOL_ERROR],
        [3, H2Code.PROTOCOL_ERROR],
      ],
    );
    // Stream 5 refers to the three entries: 62 "x-k: v", 63 ":path: /dyn", 64 ":authority: 127.0.0.1".
    h.conn.receive(headers(5, Buffer.concat([hpackIndexed(63), Buffer.from([0x82, 0x86]), hpackIndexed(64), hpackIndexed(62)]), { endStream: true }));
    assert.deepEqual(h.events, ["request 5 GET /dyn end"]);
  });

  test("a peer reset: onReset, and the stream's later responses are dropped", () => {
    const h = harness();
    h.open();
    h.conn.receive(Buffer.concat([request(1), rstStream(1, H2Code.CANCEL)]));
    assert.deepEqual(h.events, ["request 1 GET / end", `reset 1 ${H2Code.CANCEL}`]);
    assert.equal(h.conn.respond(1, 200, []), false);
    assert.deepEqual(h.frames(), []);
  });

  test("the same conversation split at every point gives the same events and output", () => {
    const script = Buffer.concat([
      PREFACE,
      settings([[Setting.INITIAL_WINDOW_SIZE, 1 << 20]]),
      request(1, { path: "/a" }),
      request(3, { method: "POST", path: "/b", endStream: false }),
      data(3, "hello"),
      data(3, " world", true),
      request(5, { path: "/c", headers: [["x-h", "v".repeat(200)]] }),
    ]);
    const respond = (c: H2ServerConnection, id: number, head: H2RequestHead): void => {
      c.respond(id, 200, ["x-path", head.path]);
      c.sendData(id, new TextEncoder().encode(head.path), true);
    };
    const whole = harness({}, respond);
    whole.frames();
    whole.conn.receive(script);
    const expected = { events: whole.events, out: whole.frames() };
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: script.length - 1 }), { maxLength: 12 }), (cuts) => {
        const h = harness({}, respond);
        h.frames();
        let prev = 0;
        for (const cut of [...cuts.sort((a, b) => a - b), script.length]) {
          h.conn.receive(script.subarray(prev, cut));
          prev = cut;
        }
        assert.deepEqual(h.events, expected.events);
        assert.deepEqual(h.frames(), expected.out);
      }),
      { numRuns: 300 },
    );
    const bytewise = harness({}, respond);
    bytewise.frames();
    for (let i = 0; i < script.length; i++) bytewise.conn.receive(script.subarray(i, i + 1));
    assert.deepEqual(bytewise.events, expected.events);
  });

  test("random input after the preface: receive never throws, the connection ends with an H2Error or lives", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 40 }),
            fc
              .record({
                type: fc.integer({ min: 0, max: 10 }),
                flags: fc.integer({ min: 0, max: 255 }),
                id: fc.integer({ min: 0, max: 9 }),
                payload: fc.uint8Array({ maxLength: 30 }),
              })
              .map(({ type, flags, id, payload }) => {
                const b = Buffer.alloc(9 + payload.length);
                b.writeUIntBE(payload.length, 0, 3);
                b[3] = type;
                b[4] = flags;
                b.writeUInt32BE(id, 5);
                b.set(payload, 9);
                return b;
              }),
            fc.constant(request(1)),
            fc.constant(request(3, { method: "POST", endStream: false })),
          ),
          { maxLength: 20 },
        ),
        (chunks) => {
          const h = harness({}, (c, id) => c.respond(id, 200, [], true));
          h.conn.receive(Buffer.concat([PREFACE, settings()]));
          for (const chunk of chunks) h.conn.receive(chunk);
          const closed = h.closed();
          if (closed !== undefined) assert.ok(closed === null || typeof closed.code === "number");
        },
      ),
      { numRuns: 3000 },
    );
  });

  test("a request's head: method, path, scheme, authority, the regular fields in order", () => {
    let seen: H2RequestHead | null = null;
    const h = harness({}, (_c, _id, head) => (seen = head));
    h.open();
    h.conn.receive(
      request(1, {
        method: "DELETE",
        path: "/x?y=1",
        authority: "example.org",
        headers: [
          ["accept", "*/*"],
          ["cookie", "a=1"],
          ["cookie", "b=2"],
        ],
      }),
    );
    assert.deepEqual(h.events, ["request 1 DELETE /x?y=1 end"]);
    assert.deepEqual(seen, {
      method: "DELETE",
      path: "/x?y=1",
      scheme: "http",
      authority: "example.org",
      headers: ["accept", "*/*", "cookie", "a=1", "cookie", "b=2"],
      contentLength: -1,
    });
  });
});
