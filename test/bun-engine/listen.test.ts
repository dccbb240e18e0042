// HTTP/1.1 on Bun.listen with tako's codec (the Bun engine's HTTP/1.1 path), on the wire: what
// this path does itself that the shared suites do not reach. Pipelined requests whose responses
// stream are answered whole and in order; HEAD on a streamed route sends the head alone and the
// connection serves on; a client that stops reading a large streamed response holds the source
// back (socket backpressure) and still gets every byte once it reads; an upload the handler does
// not read yet is held back, then read whole; Expect: 100-continue gets its interim answer when
// the handler reads the body. Raw sockets, bounded loops, no sleeps.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { RawConn } from "../_shared/conn.ts";
import { http } from "../_shared/http-client.ts";
import { useFixture } from "../_shared/spawn.ts";

const BIG = 128 * 256 * 1024;
const host = "Host: t\r\n";

describe("HTTP/1.1 on Bun.listen (tako's codec)", () => {
  const fx = useFixture("bun", "test/bun-engine/_listen-main.ts");
  const opts = { timeout: 30_000 };

  test("pipelined requests whose responses stream: each answered whole (chunked), in request order", opts, async () => {
    const conn = await RawConn.open(fx.port);
    conn.send(
      `GET /stream/3 HTTP/1.1\r\n${host}\r\nGET /sync HTTP/1.1\r\n${host}\r\nGET /stream/2 HTTP/1.1\r\n${host}\r\nGET /stream/1 HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
    );
    await conn.closed;
    const answers = await conn.responses(4, 0);
    assert.deepEqual(
      answers.map((a) => [a.status, a.body]),
      [
        [200, "part 0;part 1;part 2;"],
        [200, "sync"],
        [200, "part 0;part 1;"],
        [200, "part 0;"],
      ],
    );
    assert.equal(answers[0]?.headers.find(([n]) => n === "transfer-encoding")?.[1], "chunked");
  });

  test("HEAD on a streamed route: the head alone, and the connection serves the next request", opts, async () => {
    const conn = await RawConn.open(fx.port);
    conn.send(`HEAD /stream/3 HTTP/1.1\r\n${host}\r\nGET /sync HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
    await conn.closed;
    assert.deepEqual(conn.statuses, [200, 200]);
    assert.doesNotMatch(conn.text, /part/);
    assert.ok(conn.text.endsWith("\r\n\r\nsync"), JSON.stringify(conn.text.slice(-200)));
  });

  test("a client that stops reading a 32 MiB streamed response holds its source back, then gets every byte", { timeout: 60_000 }, async () => {
    const socket = connect({ host: "127.0.0.1", port: fx.port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.pause();
    socket.write(`GET /big HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
    // Wait until the source stops producing (the socket buffers are full): bounded polling.
    let last = -1;
    let produced = 0;
    for (let i = 0; i < 200; i++) {
      produced = Number((await http(fx.port, "/produced")).text);
      if (produced > 0 && produced === last) break;
      last = produced;
    }
    assert.ok(produced > 0 && produced < 128, `the source produced ${produced} of 128 chunks while the client read nothing`);
    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.resume();
    await done;
    const text = Buffer.concat(chunks).toString("latin1");
    const head = text.indexOf("\r\n\r\n");
    assert.match(text.slice(0, head), /^HTTP\/1\.1 200 /);
    // De-chunk and check every byte.
    let at = head + 4;
    let body = 0;
    let expected = 0;
    for (;;) {
      const lineEnd = text.indexOf("\r\n", at);
      const size = parseInt(text.slice(at, lineEnd), 16);
      if (size === 0) break;
      const data = text.slice(lineEnd + 2, lineEnd + 2 + size);
      for (let j = 0; j < data.length; j += 4096) {
        assert.equal(data.charCodeAt(j), 97 + (Math.floor((body + j) / (256 * 1024)) % 26), `byte ${body + j}`);
      }
      expected += size;
      body += size;
      at = lineEnd + 2 + size + 2;
    }
    assert.equal(expected, BIG);
    assert.equal(Number((await http(fx.port, "/produced")).text), 128);
  });

  test("an upload the handler does not read yet is held back (the client cannot write it all), then read whole", { timeout: 60_000 }, async () => {
    const socket = connect({ host: "127.0.0.1", port: fx.port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    let text = "";
    socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
    const size = 128 * 256 * 1024;
    socket.write(`POST /slow-upload HTTP/1.1\r\n${host}Content-Length: ${size}\r\nConnection: close\r\n\r\n`);
    const chunk = Buffer.alloc(256 * 1024, "u");
    for (let i = 0; i < 128; i++) socket.write(chunk);
    let state = "";
    for (let i = 0; i < 200 && state !== "waiting"; i++) state = (await http(fx.port, "/upload-state")).text;
    assert.equal(state, "waiting");
    // Let the buffers fill: wait until what the client handed to the kernel stops growing
    // (unchanged over five round trips to the server; bounded).
    const sent = (): number => socket.bytesWritten - socket.writableLength;
    let last = -1;
    let still = 0;
    for (let i = 0; i < 500 && still < 5; i++) {
      still = sent() === last ? still + 1 : 0;
      last = sent();
      await http(fx.port, "/upload-state");
    }
    assert.ok(socket.writableLength > 0, `the whole upload was taken (${sent()} of ${size} bytes) while the handler read nothing`);
    assert.equal((await http(fx.port, "/release")).text, "released");
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.ok(text.endsWith(`\r\n\r\n${size}`), JSON.stringify(text.slice(-100)));
  });

  test("Expect: 100-continue: the interim 100 when the handler reads the body, then the answer", opts, async () => {
    const conn = await RawConn.open(fx.port);
    conn.send(`POST /echo HTTP/1.1\r\n${host}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
    assert.ok(await conn.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/, 10_000), JSON.stringify(conn.text));
    conn.send("hello");
    assert.ok(await conn.waitFor(/\r\n\r\nhello$/, 10_000), JSON.stringify(conn.text));
    assert.deepEqual(conn.statuses, [100, 200]);
    conn.destroy();
  });
});
