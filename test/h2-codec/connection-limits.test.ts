// H2ServerConnection without sockets, at the edges of what it remembers and allows: streams
// closed long ago, the SETTINGS acknowledgement deadline, PINGs while it drains, WINDOW_UPDATE
// frames that do no work, and the peer's SETTINGS_MAX_HEADER_LIST_SIZE.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { data, encodeHeaders, Flag, frame, FrameType, headers, request } from "../_shared/h2-raw/index.ts";
import { H2Code } from "../../src/core/http2/index.ts";
import { harness, type OutFrame } from "./_harness.ts";

const code = (f: OutFrame | undefined): number | undefined => f?.payload.readUInt32BE(f.type === FrameType.GOAWAY ? 4 : 0);
const ofType = (out: OutFrame[], type: number): OutFrame[] => out.filter((f) => f.type === type);

describe("closed streams", () => {
  test("DATA in flight on 300 streams reset at once (h2MaxConcurrentStreams 300) is ignored, its window returned", () => {
    const h = harness({ maxConcurrentStreams: 300 }, (c, id) => c.respond(id, 413, [], true));
    h.open();
    const ids = Array.from({ length: 300 }, (_, i) => 1 + 2 * i);
    h.conn.receive(Buffer.concat(ids.map((id) => request(id, { method: "POST", path: "/up", endStream: false }))));
    assert.equal(ofType(h.frames(), FrameType.RST_STREAM).length, 300, "each answered, then RST_STREAM NO_ERROR");
    h.conn.receive(Buffer.concat(ids.map((id) => data(id, Buffer.alloc(2000), true))));
    const out = h.frames();
    assert.deepEqual(ofType(out, FrameType.GOAWAY), [], "no connection error");
    assert.deepEqual(ofType(out, FrameType.RST_STREAM), [], "ignored, not answered");
    assert.ok(
      ofType(out, FrameType.WINDOW_UPDATE).some((f) => f.id === 0),
      "the connection window comes back",
    );
    assert.equal(h.closed(), undefined);
  });

  test("DATA and trailers on a stream closed long ago (past the reset memory): RST_STREAM STREAM_CLOSED, the connection lives", () => {
    const h = harness({}, (c, id) => c.respond(id, 200, [], true));
    h.open();
    h.conn.receive(request(1, { method: "POST", path: "/up", endStream: false })); // answered, then reset (NO_ERROR)
    for (let i = 1; i <= 2000; i++) h.conn.receive(request(1 + 2 * i));
    h.frames();
    h.conn.receive(data(1, Buffer.alloc(100)));
    let out = h.frames();
    assert.deepEqual(
      out.filter((f) => f.type !== FrameType.WINDOW_UPDATE).map((f) => [f.type, f.id, code(f)]),
      [[FrameType.RST_STREAM, 1, H2Code.STREAM_CLOSED]],
    );
    h.conn.receive(headers(1, encodeHeaders([["x-trailer", "1"]]), { endStream: true }));
    out = h.frames();
    assert.deepEqual(
      out.map((f) => [f.type, f.id, code(f)]),
      [[FrameType.RST_STREAM, 1, H2Code.STREAM_CLOSED]],
    );
    h.conn.receive(request(5001));
    assert.equal(h.events.at(-1), "request 5001 GET / end");
    assert.equal(h.closed(), undefined);
  });

  test("a recent stream closed normally: DATA on it is still a connection error STREAM_CLOSED", () => {
    const h = harness({}, (c, id) => c.respond(id, 200, [], true));
    h.open();
    h.conn.receive(request(1));
    h.conn.receive(data(1, "late"));
    assert.equal(code(ofType(h.frames(), FrameType.GOAWAY)[0]), H2Code.STREAM_CLOSED);
  });

  test("a flood of DATA on streams closed long ago ends with GOAWAY ENHANCE_YOUR_CALM", () => {
    const h = harness({}, (c, id) => c.respond(id, 200, [], true));
    h.open();
    for (let i = 0; i < 1500; i++) h.conn.receive(request(1 + 2 * i));
    h.frames();
    for (let i = 0; i < 2000 && h.closed() === undefined; i++) h.conn.receive(data(1 + 2 * (i % 200), "x"));
    const goaway = ofType(h.frames(), FrameType.GOAWAY)[0];
    assert.equal(code(goaway), H2Code.ENHANCE_YOUR_CALM);
  });
});

describe("the SETTINGS acknowledgement deadline", () => {
  test("sweep: no SETTINGS ACK within settingsTimeout (10 s by default) is GOAWAY SETTINGS_TIMEOUT", () => {
    let now = 1_000;
    const h = harness({ now: () => now });
    h.open();
    now += 9_999;
    h.conn.sweep(now);
    assert.deepEqual(h.frames(), []);
    now += 1;
    h.conn.sweep(now);
    assert.equal(code(ofType(h.frames(), FrameType.GOAWAY)[0]), H2Code.SETTINGS_TIMEOUT);
    assert.equal(h.closed()?.code, H2Code.SETTINGS_TIMEOUT);
  });

  test("sweep: an acknowledged SETTINGS has no deadline; a shorter settingsTimeout is kept", () => {
    let now = 0;
    const acked = harness({ now: () => now });
    acked.open();
    acked.conn.receive(frame(FrameType.SETTINGS, Flag.ACK, 0));
    now = 1e9;
    acked.conn.sweep(now);
    assert.deepEqual(acked.frames(), []);
    assert.equal(acked.closed(), undefined);
    now = 0;
    const short = harness({ now: () => now, settingsTimeout: 500 });
    short.open();
    short.conn.sweep(499);
    assert.equal(short.closed(), undefined);
    short.conn.sweep(500);
    assert.equal(short.closed()?.code, H2Code.SETTINGS_TIMEOUT);
  });
});
