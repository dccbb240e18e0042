// H2ServerConnection without sockets, at the edges of what it remembers and allows: streams
// closed long ago, the SETTINGS acknowledgement deadline, PINGs while it drains, WINDOW_UPDATE
// frames that do no work, and the peer's SETTINGS_MAX_HEADER_LIST_SIZE.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { data, encodeHeaders, Flag, frame, FrameType, headers, ping, PREFACE, request, rstStream, Setting, settings, windowUpdate } from "../_shared/h2-raw/index.ts";
import { H2Code } from "../../src/core/http2/index.ts";
import { dataBytes, harness, type OutFrame } from "./_harness.ts";

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

describe("WINDOW_UPDATE frames that do no work", () => {
  const upload = request(1, { method: "POST", path: "/up", endStream: false });
  for (const [name, opener, frameOf] of [
    ["1-octet increments on an open stream", upload, () => windowUpdate(1, 1)],
    ["large increments on a stream nothing was sent on", upload, () => windowUpdate(1, 100_000)],
    ["increments on the connection window while nothing is sent", upload, () => windowUpdate(0, 2000)],
    ["1-octet increments each letting one octet of a waiting response out", Buffer.concat([settings([[Setting.INITIAL_WINDOW_SIZE, 0]]), request(1)]), () => windowUpdate(1, 1)],
  ] as const) {
    test(`a flood of ${name} ends with GOAWAY ENHANCE_YOUR_CALM`, () => {
      const h = harness({}, (c, id, head) => {
        if (head.method !== "GET") return;
        c.respond(id, 200, []);
        c.sendData(id, new Uint8Array(1 << 20), true);
      });
      h.open();
      h.conn.receive(opener);
      for (let i = 0; i < 5000 && h.closed() === undefined; i++) h.conn.receive(frameOf());
      const goaway = ofType(h.frames(), FrameType.GOAWAY)[0];
      assert.equal(code(goaway), H2Code.ENHANCE_YOUR_CALM);
      assert.match(goaway!.payload.subarray(8).toString(), /do no work/);
    });
  }

  test("an honest reader of 8 MiB with a 16 KiB stream window returns window 2,048 times: no GOAWAY", () => {
    const body = new Uint8Array(8 * 1024 * 1024);
    const h = harness({}, (c, id) => {
      c.respond(id, 200, []);
      c.sendData(id, body, true);
    });
    h.conn.receive(Buffer.concat([PREFACE, settings([[Setting.INITIAL_WINDOW_SIZE, 16_384]]), windowUpdate(0, 1_000_000)]));
    h.frames();
    h.conn.receive(request(1));
    let received = 0;
    let updates = 0;
    let pending = 0;
    for (let round = 0; round < 10_000 && received < body.length; round++) {
      const got = dataBytes(h.frames(), 1);
      received += got;
      pending += got;
      // As nghttp2 does: the window goes back once half of it was read.
      while (pending >= 8192) {
        h.conn.receive(Buffer.concat([windowUpdate(1, 8192), windowUpdate(0, 8192)]));
        pending -= 8192;
        updates += 2;
      }
      if (got === 0 && pending > 0) {
        h.conn.receive(Buffer.concat([windowUpdate(1, pending), windowUpdate(0, pending)]));
        pending = 0;
      }
    }
    assert.equal(received, body.length);
    assert.ok(updates >= 2048, `${updates} WINDOW_UPDATE frames`);
    assert.equal(h.closed(), undefined, "no connection error");
  });
});

describe("the peer's SETTINGS_MAX_HEADER_LIST_SIZE", () => {
  const limited = (react: Parameters<typeof harness>[1]) => {
    const h = harness({}, react);
    h.conn.receive(Buffer.concat([PREFACE, settings([[Setting.MAX_HEADER_LIST_SIZE, 200]])]));
    h.frames();
    return h;
  };

  test("a response head over it: RST_STREAM INTERNAL_ERROR, onReset, respond() false; one within it is sent", () => {
    const results: boolean[] = [];
    const h = limited((c, id, head) => {
      const big = head.path === "/big" ? ["x-big", "v".repeat(150)] : ["x-small", "v".repeat(100)];
      results.push(c.respond(id, 200, big, true));
    });
    h.conn.receive(request(1, { path: "/big" }));
    assert.deepEqual(
      h.frames().map((f) => [f.type, f.id, code(f)]),
      [[FrameType.RST_STREAM, 1, H2Code.INTERNAL_ERROR]],
    );
    assert.deepEqual(h.events, ["request 1 GET /big end", `reset 1 ${H2Code.INTERNAL_ERROR}`]);
    h.conn.receive(request(3, { path: "/small" })); // 42 + 7 + 100 + 32 = 181
    assert.deepEqual(
      h.frames().map((f) => f.type),
      [FrameType.HEADERS],
    );
    assert.deepEqual(results, [false, true]);
    assert.equal(h.closed(), undefined);
  });

  test("an informational response over it is left out; trailers over it reset the stream", () => {
    const h = limited((c, id) => {
      assert.equal(c.respond(id, 103, ["link", "x".repeat(300)]), true);
      c.respond(id, 200, []);
      c.sendData(id, new Uint8Array(5));
      assert.equal(c.sendTrailers(id, ["x-t", "y".repeat(300)]), false);
    });
    h.conn.receive(request(1));
    assert.deepEqual(
      h.frames().map((f) => [f.type, f.id]),
      [
        [FrameType.HEADERS, 1],
        [FrameType.DATA, 1],
        [FrameType.RST_STREAM, 1],
      ],
    );
    assert.equal(h.events.at(-1), `reset 1 ${H2Code.INTERNAL_ERROR}`);
  });
});

describe("PINGs while the connection drains (after our GOAWAY)", () => {
  test("answered while a stream is open, under the same budget: a PING flood still ends with ENHANCE_YOUR_CALM", () => {
    const h = harness();
    h.open();
    h.conn.receive(request(1, { method: "POST", path: "/up", endStream: false }));
    h.conn.goaway();
    assert.deepEqual(
      h.frames().map((f) => [f.type, code(f)]),
      [[FrameType.GOAWAY, H2Code.NO_ERROR]],
    );
    h.conn.receive(ping(Buffer.from("stillup?")));
    const ack = h.frames()[0];
    assert.equal(ack?.type, FrameType.PING);
    assert.equal(ack?.flags, Flag.ACK);
    for (let i = 0; i < 2000 && h.closed() === undefined; i++) h.conn.receive(ping(Buffer.alloc(8)));
    const goaways = ofType(h.frames(), FrameType.GOAWAY);
    assert.equal(code(goaways[0]), H2Code.ENHANCE_YOUR_CALM);
    assert.equal(h.closed()?.code, H2Code.ENHANCE_YOUR_CALM);
  });

  test("the last stream ends: the connection closes, and later PINGs get no answer; with no stream open it closes at once", () => {
    const h = harness();
    h.open();
    h.conn.receive(request(1, { method: "POST", path: "/up", endStream: false }));
    h.conn.goaway();
    h.conn.respond(1, 200, [], true);
    assert.equal(h.closed(), null);
    h.frames();
    h.conn.receive(ping(Buffer.alloc(8)));
    assert.deepEqual(h.frames(), []);
    const idle = harness();
    idle.open();
    idle.conn.goaway();
    assert.equal(idle.closed(), null);
  });
});

describe("streams the client reset", () => {
  test("DATA or HEADERS after the client's own RST_STREAM: RST_STREAM STREAM_CLOSED (RFC 9113 §5.1), the connection lives", () => {
    const h = harness();
    h.open();
    const upload = (id: number): Buffer => Buffer.concat([request(id, { method: "POST", path: "/up", endStream: false }), rstStream(id, H2Code.CANCEL)]);
    h.conn.receive(Buffer.concat([upload(1), upload(3)]));
    h.frames();
    h.conn.receive(data(1, "late"));
    h.conn.receive(headers(3, encodeHeaders([["x-trailer", "1"]]), { endStream: true }));
    assert.deepEqual(
      h.frames().map((f) => [f.type, f.id, code(f)]),
      [
        [FrameType.RST_STREAM, 1, H2Code.STREAM_CLOSED],
        [FrameType.RST_STREAM, 3, H2Code.STREAM_CLOSED],
      ],
    );
    // Our RST_STREAM is out: what the client still sends on the stream is ignored.
    h.conn.receive(data(1, "later"));
    assert.deepEqual(ofType(h.frames(), FrameType.RST_STREAM), []);
    h.conn.receive(request(5));
    assert.equal(h.events.at(-1), "request 5 GET / end");
    assert.equal(h.closed(), undefined);
  });
});
