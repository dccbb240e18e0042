// Self-test of test/_shared/h2-raw/: the HPACK decoder against the RFC 7541 Appendix C
// examples, the frame parser against a hand-written TCP peer (frames split byte by byte, many
// frames per chunk), and the connection against a real node:http2 h2c server in this process.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import {
  ErrorCode,
  Flag,
  FrameType,
  H2RawConn,
  HpackDecoder,
  HpackError,
  PREFACE,
  Setting,
  continuation,
  data,
  encodeHeaders,
  errorName,
  frame,
  goaway,
  headers,
  hpackInteger,
  hpackLiteral,
  hpackTableSizeUpdate,
  huffmanCode,
  huffmanDecode,
  huffmanEncode,
  parseGoaway,
  parseRstStream,
  parseSettings,
  ping,
  request,
  rstStream,
  settings,
  settingsAck,
  windowUpdate,
  type Frame,
} from "../_shared/h2-raw/index.ts";
import {
  C3_BLOCKS,
  C4_BLOCKS,
  C5_BLOCKS,
  C6_BLOCKS,
  REQUEST_TABLE_SIZES,
  REQUEST_TABLES,
  REQUESTS,
  RESPONSE_TABLE_LIMIT,
  RESPONSE_TABLE_SIZES,
  RESPONSE_TABLES,
  RESPONSES,
} from "../_shared/hpack-vectors.ts";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

// ---------------------------------------------------------------------------------------------
// Encoders and small parsers
// ---------------------------------------------------------------------------------------------

describe("encoders", () => {
  test("preface and frame layout", () => {
    assert.equal(PREFACE.length, 24);
    assert.equal(PREFACE.toString("latin1"), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    assert.deepEqual(frame(FrameType.PING, Flag.ACK, 0, Buffer.from("12345678")), Buffer.concat([hex("000008 06 01 00000000"), Buffer.from("12345678")]));
    assert.deepEqual(
      settings([
        [Setting.MAX_CONCURRENT_STREAMS, 100],
        [Setting.INITIAL_WINDOW_SIZE, 65535],
      ]),
      hex("00000c 04 00 00000000 0003 00000064 0004 0000ffff"),
    );
    assert.deepEqual(settingsAck(), hex("000000 04 01 00000000"));
    assert.deepEqual(ping(), hex("000008 06 00 00000000 0000000000000000"));
    assert.deepEqual(rstStream(3, ErrorCode.CANCEL), hex("000004 03 00 00000003 00000008"));
    assert.deepEqual(goaway(5, ErrorCode.ENHANCE_YOUR_CALM, "x"), hex("000009 07 00 00000000 00000005 0000000b 78"));
    assert.deepEqual(windowUpdate(0, 1 << 20), hex("000004 08 00 00000000 00100000"));
    assert.deepEqual(data(1, "ab", true), hex("000002 00 01 00000001 6162"));
    assert.deepEqual(headers(1, hex("82"), { endStream: true }), hex("000001 01 05 00000001 82"));
    assert.deepEqual(
      headers(1, hex("82"), { endHeaders: false, padLength: 2, priority: { dependency: 3, weight: 15, exclusive: true } }),
      hex("000009 01 28 00000001 02 80000003 0f 82 0000"),
    );
    assert.deepEqual(continuation(1, hex("82"), true), hex("000001 09 04 00000001 82"));
    const req = request(1);
    assert.equal(req[3], FrameType.HEADERS);
    assert.equal(req[4], Flag.END_STREAM | Flag.END_HEADERS);
  });

  test("HPACK integers (RFC 7541 C.1) and long literal lengths", () => {
    assert.deepEqual(hpackInteger(10, 5), hex("0a"));
    assert.deepEqual(hpackInteger(1337, 5), hex("1f9a0a"));
    assert.deepEqual(hpackInteger(42, 8), hex("2a"));
    assert.deepEqual(hpackInteger(127, 7, 0x80), hex("ff00"));
    const long = "v".repeat(70_000);
    const block = encodeHeaders([
      ["x-long", long],
      ["x-short", "s"],
      ["x-latin1", "\u00e9\u00ff"],
    ]);
    assert.equal(block[0], 0x00, "literal without indexing, new name");
    assert.deepEqual(new HpackDecoder().decode(block), [
      ["x-long", long],
      ["x-short", "s"],
      ["x-latin1", "\u00e9\u00ff"],
    ]);
  });

  test("payload parsers and errorName", () => {
    assert.deepEqual(
      parseSettings(hex("0003 00000007 0006 00001000")),
      new Map([
        [3, 7],
        [6, 4096],
      ]),
    );
    assert.throws(() => parseSettings(hex("0003 0000")), RangeError);
    assert.deepEqual(parseGoaway(hex("80000003 00000001 6869")), { lastStreamId: 3, errorCode: 1, debug: "hi" });
    assert.equal(parseRstStream(hex("00000007")), ErrorCode.REFUSED_STREAM);
    assert.equal(errorName(ErrorCode.CANCEL), "CANCEL");
    assert.equal(errorName(0xd), "HTTP_1_1_REQUIRED");
    assert.equal(errorName(0x77), "UNKNOWN_ERROR(0x77)");
    assert.ok(Object.isFrozen(FrameType) && Object.isFrozen(ErrorCode) && Object.isFrozen(Setting) && Object.isFrozen(Flag));
  });
});

// ---------------------------------------------------------------------------------------------
// HPACK decoding: RFC 7541 Appendix C
// ---------------------------------------------------------------------------------------------

describe("HPACK decoder (RFC 7541 Appendix C)", () => {
  function runRequests(blocks: readonly string[]): HpackDecoder {
    const d = new HpackDecoder();
    REQUESTS.forEach((expected, i) => {
      assert.deepEqual(d.decode(hex(blocks[i] ?? "")), expected, `request ${i + 1}`);
      assert.deepEqual(d.dynamicTable, REQUEST_TABLES[i], `table after request ${i + 1}`);
      assert.equal(d.tableSize, REQUEST_TABLE_SIZES[i]);
    });
    return d;
  }

  test("C.3 requests without Huffman", () => {
    const d = runRequests(C3_BLOCKS);
    assert.equal(d.stats.huffmanStrings, 0);
    assert.equal(d.stats.indexedDynamic, 2);
  });

  test("C.4 requests with Huffman", () => {
    const d = runRequests(C4_BLOCKS);
    assert.equal(d.stats.huffmanStrings, 4);
  });

  function runResponses(blocks: readonly string[]): HpackDecoder {
    const d = new HpackDecoder(RESPONSE_TABLE_LIMIT);
    RESPONSES.forEach((expected, i) => {
      assert.deepEqual(d.decode(hex(blocks[i] ?? "")), expected, `response ${i + 1}`);
      assert.deepEqual(d.dynamicTable, RESPONSE_TABLES[i], `table after response ${i + 1}`);
      assert.equal(d.tableSize, RESPONSE_TABLE_SIZES[i]);
    });
    assert.equal(d.stats.evictions, 5);
    return d;
  }

  test("C.5 responses without Huffman (evictions at table size 256)", () => {
    runResponses(C5_BLOCKS);
  });

  test("C.6 responses with Huffman (evictions at table size 256)", () => {
    const d = runResponses(C6_BLOCKS);
    assert.equal(d.stats.rawStrings, 0);
  });

  test("Huffman table matches RFC 7541 Appendix B codes and round-trips every octet", () => {
    // [symbol, code as hex aligned to LSB, length] spot checks spread over every code length.
    const rfc: [number, number, number][] = [
      [0, 0x1ff8, 13],
      [1, 0x7fffd8, 23],
      [9, 0xffffea, 24],
      [10, 0x3ffffffc, 30],
      [22, 0x3ffffffe, 30],
      [32, 0x14, 6],
      [48, 0x0, 5],
      [58, 0x5c, 7],
      [60, 0x7ffc, 15],
      [92, 0x7fff0, 19],
      [116, 0x9, 5],
      [122, 0x7b, 7],
      [126, 0x1ffd, 13],
      [127, 0xffffffc, 28],
      [128, 0xfffe6, 20],
      [153, 0x1fffdc, 21],
      [199, 0x1ffffec, 25],
      [203, 0x7ffffde, 27],
      [220, 0xffffffd, 28],
      [239, 0x7ffff4, 23],
      [249, 0xffffffe, 28],
      [254, 0x7fffff0, 27],
      [255, 0x3ffffee, 26],
      [256, 0x3fffffff, 30],
    ];
    for (const [sym, code, bits] of rfc) assert.deepEqual(huffmanCode(sym), { code, bits }, `symbol ${sym}`);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.deepEqual(huffmanDecode(huffmanEncode(all)), all);
    assert.deepEqual(huffmanEncode("www.example.com"), hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff"));
  });

  test("malformed blocks throw HpackError", () => {
    const d = new HpackDecoder();
    assert.throws(() => d.decode(hex("80")), HpackError, "index 0");
    assert.throws(() => d.decode(hex("be")), HpackError, "empty dynamic table");
    assert.throws(() => d.decode(hex("0f")), HpackError, "truncated integer");
    assert.throws(() => d.decode(hex("ff 80 80 80 80 80 80 00")), HpackError, "over-long integer");
    assert.throws(() => d.decode(hex("ff ff ff ff ff 0f")), HpackError, "integer above 2^32-1");
    assert.throws(() => d.decode(hex("0003 6162")), HpackError, "string overrun");
    assert.throws(() => huffmanDecode(hex("ffff")), HpackError, "padding longer than 7 bits");
    assert.throws(() => huffmanDecode(hex("00")), HpackError, "padding not EOS prefix");
    assert.throws(() => huffmanDecode(hex("ffffffff")), HpackError, "EOS");
    assert.throws(() => d.decode(Buffer.concat([hex("82"), hpackTableSizeUpdate(0)])), HpackError, "size update after a field");
    assert.throws(() => d.decode(hpackTableSizeUpdate(5000)), HpackError, "size update above the setting");
  });

  test("size updates evict, never-indexed and incremental literals", () => {
    const d = new HpackDecoder();
    d.decode(Buffer.concat([hpackLiteral("a", "1", "incremental"), hpackLiteral("b", "2", "incremental", true)]));
    assert.equal(d.tableSize, 68);
    assert.deepEqual(d.decode(Buffer.concat([hpackTableSizeUpdate(40), hex("be"), hpackLiteral(":path", "/x", "never")])), [
      ["b", "2"],
      [":path", "/x"],
    ]);
    assert.deepEqual(d.dynamicTable, [["b", "2"]]);
    assert.equal(d.maxTableSize, 40);
    d.decode(hpackLiteral("too-big-for-the-table", "value", "incremental"));
    assert.deepEqual(d.dynamicTable, [], "an entry larger than the table empties it");
    assert.equal(d.stats.neverIndexed, 1);
    assert.equal(d.stats.sizeUpdates, 1);
  });
});

// ---------------------------------------------------------------------------------------------
// Frame parser against a hand-written TCP peer
// ---------------------------------------------------------------------------------------------

/** A plain TCP server playing the HTTP/2 server side by hand; closed by the caller. */
async function rawPeer(onConn: (s: Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const srv = createNetServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    onConn(s);
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}

async function dribble(s: Socket, buf: Buffer): Promise<void> {
  for (const b of buf) {
    if (s.destroyed) return;
    s.write(Buffer.from([b]));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("frame parser (hand-written peer)", () => {
  test("frames split byte by byte, CONTINUATION assembly, padding, PUSH_PROMISE", async () => {
    const block = Buffer.concat([hpackLiteral(":status", "200", "incremental", true), hpackLiteral("x-split", "across-three-frames", "incremental", true)]);
    const push = Buffer.concat([
      hex("00000002"),
      encodeHeaders([
        [":method", "GET"],
        [":path", "/pushed"],
      ]),
    ]);
    const script = Buffer.concat([
      settings([[Setting.MAX_CONCURRENT_STREAMS, 3]]),
      frame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, push),
      headers(1, block.subarray(0, 3), { endHeaders: false, padLength: 4, priority: { dependency: 0, weight: 15 } }),
      continuation(1, block.subarray(3, 9), false),
      continuation(1, block.subarray(9), true),
      frame(FrameType.DATA, Flag.PADDED, 1, Buffer.concat([hex("03"), Buffer.from("body"), hex("000000")])),
      data(1, "!", true),
      rstStream(2, ErrorCode.REFUSED_STREAM),
    ]);
    const peer = await rawPeer((s) => void dribble(s, script));
    const conn = await H2RawConn.connect(peer.port);
    try {
      const res = await conn.response(1, 3000);
      assert.equal(res.status, 200);
      assert.deepEqual(res.headers, [
        [":status", "200"],
        ["x-split", "across-three-frames"],
      ]);
      assert.equal(res.body.toString(), "body!");
      assert.equal(conn.dataBytesReceived, 9, "flow-controlled length includes padding");
      await conn.until(() => conn.resets.get(2), 3000, "RST_STREAM 2");
      assert.equal(conn.resets.get(2), ErrorCode.REFUSED_STREAM);
      assert.deepEqual(conn.pushPromises.get(2), [
        [":method", "GET"],
        [":path", "/pushed"],
      ]);
      assert.equal(conn.serverSettings?.get(Setting.MAX_CONCURRENT_STREAMS), 3);
      assert.equal(conn.count(FrameType.CONTINUATION), 2);
      assert.deepEqual(conn.protocolErrors, []);
      assert.ok(conn.hpack.stats.huffmanStrings >= 3);
    } finally {
      conn.close();
      await peer.close();
    }
  });

  test("many frames in one chunk, auto SETTINGS/PING ACK, keepFrames: false, close rejects waits", async () => {
    let received = Buffer.alloc(0);
    let ackResolve = (): void => {};
    let ackReject = (_err: Error): void => {};
    const gotAcks = new Promise<void>((resolve, reject) => {
      ackResolve = resolve;
      ackReject = reject;
    });
    const pings = Array.from({ length: 500 }, (_, i) => ping(Buffer.from(String(i).padStart(8, "0"))));
    const peer = await rawPeer((s) => {
      s.on("data", (d: Buffer) => {
        received = Buffer.concat([received, d]);
        // preface + SETTINGS (33) + SETTINGS ACK (9) + 500 PING ACKs (17 each)
        if (received.length >= 24 + 9 + 9 + 500 * 17) ackResolve();
      });
      s.write(Buffer.concat([settings(), ...pings]));
    });
    const conn = await H2RawConn.connect(peer.port, { keepFrames: false });
    try {
      await conn.until(() => conn.count(FrameType.PING) === 500, 3000, "500 PINGs");
      assert.equal(conn.frames.length, 0);
      assert.equal(conn.frameCount, 501);
      assert.equal(conn.bytesReceived, 9 + 500 * 17);
      const timer = setTimeout(() => ackReject(new Error(`peer got only ${received.length} bytes`)), 3000);
      await gotAcks.finally(() => clearTimeout(timer));
      assert.deepEqual(received.subarray(0, 24), PREFACE);
      assert.deepEqual(received.subarray(24, 33), settings());
      assert.deepEqual(received.subarray(33, 42), settingsAck());
      assert.deepEqual(received.subarray(42, 42 + 17), ping(Buffer.from("00000000"), true));

      await assert.rejects(
        conn.nextFrame((f) => f.type === FrameType.GOAWAY, 50),
        /no matching frame within 50 ms.*PING×500.*socket open/,
      );
      const waiting = conn.nextFrame((f) => f.type === FrameType.GOAWAY, 3000);
      await peer.close();
      await assert.rejects(waiting, /connection closed.*socket closed/);
      const info = await conn.closed;
      assert.equal(typeof info.at, "number");
      assert.equal(conn.isClosed, true);
      assert.equal(conn.write(ping()), false);
      assert.equal(await conn.writeAll([ping()]), false);
    } finally {
      conn.close();
      await peer.close();
    }
  });

  test("writeAll waits for drain and resolves false when the peer goes away", async () => {
    const peer = await rawPeer((s) => {
      s.pause();
      setTimeout(() => s.destroy(), 300);
    });
    const conn = await H2RawConn.connect(peer.port);
    try {
      const chunk = Buffer.alloc(1 << 16);
      const ok = await conn.writeAll(Array.from({ length: 1024 }, () => chunk)); // 64 MiB: more than the socket buffers hold
      assert.equal(ok, false);
      await conn.closed;
    } finally {
      conn.close();
      await peer.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Against a real node:http2 h2c server
// ---------------------------------------------------------------------------------------------

describe("against node:http2 (h2c)", () => {
  let server: http2.Http2Server;
  let port = 0;
  const sessions = new Set<http2.ServerHttp2Session>();
  const conns: H2RawConn[] = [];
  const BIG_BODY = Buffer.alloc(100_000, "0123456789");

  async function open(): Promise<H2RawConn> {
    const c = await H2RawConn.connect(port);
    conns.push(c);
    return c;
  }

  function onStream(stream: http2.ServerHttp2Stream, reqHeaders: http2.IncomingHttpHeaders): void {
    stream.on("error", () => {});
    switch (reqHeaders[":path"]) {
      case "/hello":
        stream.respond({ ":status": 200, "content-type": "text/plain", "x-test": "some-long-value-here" });
        stream.end("hello world");
        return;
      case "/nope":
        stream.respond({ ":status": 405, "x-test": "some-long-value-here", allow: "POST" });
        stream.end("method not allowed here");
        return;
      case "/echo": {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          stream.respond({ ":status": 200, "x-method": String(reqHeaders[":method"]) });
          stream.end(Buffer.concat(chunks));
        });
        return;
      }
      case "/headers":
        stream.respond({ ":status": 200 });
        stream.end(JSON.stringify({ a: String(reqHeaders["x-a"] ?? "").length, b: String(reqHeaders["x-b"] ?? "").length }));
        return;
      case "/dyn":
        stream.respond({ ":status": 200, "x-repeat": "repeated-value-abc", "x-request": String(reqHeaders["x-n"]) });
        stream.end("dyn");
        return;
      case "/big-header":
        stream.respond({ ":status": 200, "x-big": "x".repeat(30_000) });
        stream.end("big");
        return;
      case "/big-body":
        stream.respond({ ":status": 200 });
        stream.end(BIG_BODY);
        return;
      case "/cancel":
        stream.close(http2.constants.NGHTTP2_CANCEL);
        return;
      case "/goaway":
        stream.session?.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 1, Buffer.from("calm down"));
        return;
      case "/close":
        stream.respond({ ":status": 200 });
        stream.end("bye");
        stream.session?.close();
        return;
      case "/ping-me":
        stream.session?.ping(Buffer.from("srv-ping"), (err, _ms, payload) => {
          stream.respond({ ":status": err ? 500 : 200 });
          stream.end(err ? String(err) : payload.toString("latin1"));
        });
        return;
      default:
        stream.respond({ ":status": 404 });
        stream.end();
    }
  }

  before(async () => {
    server = http2.createServer({ settings: { maxConcurrentStreams: 7, maxHeaderListSize: 4096 } });
    server.on("session", (s) => {
      sessions.add(s);
      s.on("close", () => sessions.delete(s));
      s.on("error", () => {});
    });
    server.on("stream", onStream);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    for (const c of conns) c.close();
    for (const s of sessions) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test("reads the server SETTINGS and gets our SETTINGS acknowledged", async () => {
    const conn = await open();
    const s = await conn.until(() => conn.serverSettings, 3000, "server SETTINGS");
    assert.equal(s.get(Setting.MAX_CONCURRENT_STREAMS), 7);
    assert.equal(s.get(Setting.MAX_HEADER_LIST_SIZE), 4096);
    await conn.nextFrame((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0, 3000);
    assert.equal(conn.settingsAcks, 1);
  });

  test("GET → 200 with Huffman-coded headers; 405 with a non-static :status", async () => {
    const conn = await open();
    conn.write(request(1, { path: "/hello" }));
    const res = await conn.response(1, 3000);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "hello world");
    assert.ok(
      res.headers.some(([n, v]) => n === "x-test" && v === "some-long-value-here"),
      JSON.stringify(res.headers),
    );
    assert.ok(res.headers.some(([n, v]) => n === "content-type" && v === "text/plain"));
    assert.ok(conn.hpack.stats.huffmanStrings > 0, "nghttp2 Huffman-encodes long values");

    conn.write(request(3, { path: "/nope", headers: [["user-agent", "h2-raw"]] }));
    const nope = await conn.response(3, 3000);
    assert.equal(nope.status, 405);
    assert.equal(nope.body.toString(), "method not allowed here");
    assert.ok(nope.headers.some(([n, v]) => n === "allow" && v === "POST"));
    assert.deepEqual(conn.protocolErrors, []);
  });

  test("POST with DATA frames is echoed back", async () => {
    const conn = await open();
    const id = conn.nextStreamId();
    const ok = await conn.writeAll([request(id, { method: "POST", path: "/echo", endStream: false }), data(id, "part one, "), data(id, "part two"), data(id, "", true)]);
    assert.equal(ok, true);
    const res = await conn.response(id, 3000);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "part one, part two");
    assert.ok(res.headers.some(([n, v]) => n === "x-method" && v === "POST"));
  });

  test("PING is answered with an ACK carrying the same payload; server PINGs are auto-acked", async () => {
    const conn = await open();
    const payload = Buffer.from("tako-h2!");
    conn.write(ping(payload));
    const ack = await conn.nextFrame((f) => f.type === FrameType.PING && (f.flags & Flag.ACK) !== 0, 3000);
    assert.deepEqual(ack.payload, payload);
    assert.equal(ack.streamId, 0);

    conn.write(request(1, { path: "/ping-me" }));
    const res = await conn.response(1, 3000);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "srv-ping");
  });

  test("HEADERS + 2 CONTINUATION frames are accepted", async () => {
    const conn = await open();
    const block = encodeHeaders([
      [":method", "GET"],
      [":scheme", "http"],
      [":authority", "127.0.0.1"],
      [":path", "/headers"],
      ["x-a", "a".repeat(300)],
      ["x-b", "b".repeat(200)],
    ]);
    const cut1 = 50;
    const cut2 = 370; // both cuts fall inside literals
    await conn.writeAll([
      headers(1, block.subarray(0, cut1), { endStream: true, endHeaders: false }),
      continuation(1, block.subarray(cut1, cut2), false),
      continuation(1, block.subarray(cut2), true),
    ]);
    const res = await conn.response(1, 3000);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body.toString()), { a: 300, b: 200 });
  });

  test("a response header block larger than a frame arrives as HEADERS + CONTINUATION", async () => {
    const conn = await open();
    conn.write(request(1, { path: "/big-header" }));
    const res = await conn.response(1, 3000);
    assert.equal(res.status, 200);
    assert.equal(res.headers.find(([n]) => n === "x-big")?.[1], "x".repeat(30_000));
    assert.ok(conn.count(FrameType.CONTINUATION) >= 1);
  });

  test("RST_STREAM CANCEL when the server closes the stream", async () => {
    const conn = await open();
    conn.write(request(1, { path: "/cancel" }));
    await assert.rejects(conn.response(1, 3000), /stream 1 was reset: CANCEL \(8\)/);
    assert.equal(conn.resets.get(1), ErrorCode.CANCEL);
    // the connection survives a stream reset
    conn.write(request(3, { path: "/hello" }));
    assert.equal((await conn.response(3, 3000)).status, 200);
  });

  test("GOAWAY from session.goaway() is parsed; later streams are reported as not processed", async () => {
    const conn = await open();
    conn.write(request(1, { path: "/goaway" }));
    const f = await conn.nextFrame((fr: Frame) => fr.type === FrameType.GOAWAY, 3000);
    assert.deepEqual(parseGoaway(f.payload), { lastStreamId: 1, errorCode: ErrorCode.ENHANCE_YOUR_CALM, debug: "calm down" });
    assert.deepEqual(conn.goaways, [{ lastStreamId: 1, errorCode: ErrorCode.ENHANCE_YOUR_CALM, debug: "calm down" }]);
    conn.write(request(3, { path: "/hello" }));
    await assert.rejects(conn.response(3, 3000), /stream 3 was not processed: GOAWAY ENHANCE_YOUR_CALM with last-stream-id 1/);
  });

  test("GOAWAY NO_ERROR from session.close(), then the socket closes", async () => {
    const conn = await open();
    conn.write(request(1, { path: "/close" }));
    const res = await conn.response(1, 3000);
    assert.equal(res.body.toString(), "bye");
    await conn.until(() => conn.goaways.length > 0, 3000, "GOAWAY");
    assert.deepEqual(conn.goaways[0], { lastStreamId: 1, errorCode: ErrorCode.NO_ERROR, debug: "" });
    let timer: NodeJS.Timeout | undefined;
    const info = await Promise.race([conn.closed, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no close: ${conn.summary()}`)), 3000)))]).finally(
      () => clearTimeout(timer),
    );
    assert.equal(info.hadError, false);
    assert.equal(conn.isClosed, true);
  });

  test("repeated response headers are decoded from the dynamic table", async () => {
    const conn = await open();
    conn.write(request(1, { path: "/dyn", headers: [["x-n", "1"]] }));
    const first = await conn.response(1, 3000);
    const before = { ...conn.hpack.stats };
    assert.ok(
      conn.hpack.dynamicTable.some(([n, v]) => n === "x-repeat" && v === "repeated-value-abc"),
      "nghttp2 indexed the custom header",
    );
    conn.write(request(3, { path: "/dyn", headers: [["x-n", "2"]] }));
    const second = await conn.response(3, 3000);
    for (const [res, n] of [
      [first, "1"],
      [second, "2"],
    ] as const) {
      assert.equal(res.status, 200);
      assert.equal(res.headers.find(([k]) => k === "x-repeat")?.[1], "repeated-value-abc");
      assert.equal(res.headers.find(([k]) => k === "x-request")?.[1], n);
      assert.equal(res.body.toString(), "dyn");
    }
    assert.ok(conn.hpack.stats.indexedDynamic > before.indexedDynamic, JSON.stringify({ before, after: conn.hpack.stats }));
  });

  test("flow control is manual: the body stalls at 65535 octets until ackData()", async () => {
    const conn = await open();
    conn.write(request(1, { path: "/big-body" }));
    await conn.until(() => conn.dataBytesReceived === 65_535, 3000, "a full initial window of DATA");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(conn.dataBytesReceived, 65_535, "server respects the window");
    assert.equal(conn.endedStreams.has(1), false);
    assert.equal(conn.ackData(1, BIG_BODY.length), true);
    const res = await conn.response(1, 3000);
    assert.deepEqual(res.body, BIG_BODY);
  });
});
