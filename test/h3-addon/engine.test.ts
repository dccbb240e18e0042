// HTTP/3 served by the @currentspace/http3 addon under Node.js and Deno (issue 15): one fixture
// per runtime (test/h3-addon/_server.ts, spawnH3 at 127.0.0.1:0 with tako's defaults), probed
// with gtlsclient and Bun's fetch over HTTP/3: connection facts, bodies both ways, streaming,
// errors, the transport parameters tako's defaults set, garbage datagrams, and no TCP port.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { useFixture, type Runtime } from "../_shared/spawn.ts";
import { bunFetch, gtls } from "./_client.ts";

const MiB = 1024 * 1024;
let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "tako-h3-body-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Sends `count` UDP datagrams of junk and half-Initials to the port, awaiting each send. */
async function garbage(port: number, count: number): Promise<void> {
  const socket = createSocket("udp4");
  try {
    for (let i = 0; i < count; i++) {
      let packet: Buffer;
      if (i % 3 === 0) packet = randomBytes(1 + (i % 1400));
      else if (i % 3 === 1) {
        // A long-header QUIC v1 Initial whose contents are noise (it cannot be decrypted).
        packet = randomBytes(1200);
        packet[0] = 0xc3;
        packet.writeUInt32BE(1, 1);
        packet[5] = 8;
      } else packet = Buffer.from([0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8]); // cut after the DCID
      await new Promise<void>((resolve, reject) => socket.send(packet, port, "127.0.0.1", (e) => (e ? reject(e) : resolve())));
    }
  } finally {
    socket.close();
  }
}

for (const runtime of ["node", "deno"] as Runtime[]) {
  describe(`HTTP/3 with the addon on ${runtime}`, () => {
    const fx = useFixture(runtime, "test/h3-addon/_server.ts");
    const url = (path: string): string => `https://127.0.0.1:${fx.port}${path}`;

    test("GET / over HTTP/3 (gtlsclient), with tako's default transport parameters and no Retry", async () => {
      const r = await gtls(fx.port, "/");
      assert.equal(r.status, 200, r.log.slice(-2000));
      assert.equal(r.body.toString(), "Hello, World!");
      assert.equal(r.headers["content-length"], "13");
      assert.equal(r.params.initial_max_streams_bidi, "100", "h3MaxConcurrentBidiStreams 100");
      assert.equal(r.params.max_idle_timeout, "30000", "h3MaxIdleTimeout 30 s");
      assert.equal(r.params.max_datagram_frame_size ?? "0", "0", "h3EnableDatagrams false");
      assert.equal(r.retried, false, "h3UseRetry false");
      assert.deepEqual(r.streamCodes, [256], "the request stream closed with H3_NO_ERROR");
    });

    test('req.conn says HTTP/3 ("3"), the peer and TLS 1.3; Host comes from :authority (Bun fetch)', async () => {
      const conn = await bunFetch<{ status: number; text: string }>({ url: url("/conn") });
      assert.equal(conn.status, 200);
      const info = JSON.parse(conn.text) as Record<string, unknown>;
      assert.equal(info.httpVersion, "3");
      assert.equal(info.remoteAddress, "127.0.0.1");
      assert.ok(Number(info.remotePort) > 0);
      assert.equal(info.localPort, fx.port);
      assert.equal(info.family, "IPv4");
      assert.deepEqual(info.tls, { alpnProtocol: "h3", serverName: null, protocol: "TLSv1.3", cipher: null, peerCertificate: null });
      const host = await bunFetch<{ text: string }>({ url: url("/host") });
      assert.deepEqual(JSON.parse(host.text), { host: `127.0.0.1:${fx.port}` });
    });

    test("a 1 MiB body both ways: uploaded with gtlsclient and echoed, uploaded with Bun fetch and echoed", async () => {
      const file = join(dir, `up-${runtime}`);
      const sent = randomBytes(MiB);
      writeFileSync(file, sent);
      const r = await gtls(fx.port, "/echo-bytes", { method: "POST", data: file });
      assert.equal(r.status, 200, r.log.slice(-2000));
      assert.equal(r.body.length, MiB, `exit ${r.exit}, stream codes ${r.streamCodes}: ${r.log.slice(-3000)}`);
      assert.ok(r.body.equals(sent), "the echoed body is the body sent");
      const b = await bunFetch<{ status: number; length: number; sameAsSent: boolean }>({ url: url("/echo-bytes"), method: "POST", bodySize: MiB });
      assert.deepEqual([b.status, b.length, b.sameAsSent], [200, MiB, true]);
    });

    test("1 MiB responses: a whole string and a stream of 16 chunks", async () => {
      const whole = await gtls(fx.port, "/big");
      assert.equal(whole.status, 200);
      assert.equal(whole.body.length, MiB);
      assert.ok(whole.body.every((c) => c === 0x78));
      const streamed = await gtls(fx.port, "/big-stream");
      assert.equal(streamed.status, 200);
      assert.equal(streamed.headers["content-length"], undefined, "a streamed body has no length");
      assert.equal(streamed.body.length, MiB);
      for (let i = 0; i < 16; i++) assert.equal(streamed.body[i * 64 * 1024 + 7], i, `chunk ${i} in order`);
    });

    test("a streamed response: the first chunk arrives before the handler is released", async () => {
      const r = await bunFetch<{ status: number; first: string; released: { released: boolean }; rest: string }>({
        url: url(`/stream/${runtime}`),
        stream: true,
        release: url(`/release/${runtime}`),
      });
      assert.deepEqual(r, { status: 200, first: "first\n", released: { released: true }, rest: "second\n" });
    });

    test("a body over the limit is answered 413", async () => {
      const b = await bunFetch<{ status: number }>({ url: url("/echo-bytes"), method: "POST", bodySize: 2 * MiB });
      assert.equal(b.status, 413);
    });

    test("errors: 500 without a stack, 404, 405 with Allow, OPTIONS 204 with Allow, HEAD without a body", async () => {
      const boom = await gtls(fx.port, "/boom");
      assert.equal(boom.status, 500);
      assert.equal(boom.body.toString(), "Internal Server Error");
      const missing = await bunFetch<{ status: number }>({ url: url("/nope") });
      assert.equal(missing.status, 404);
      const wrong = await bunFetch<{ status: number; headers: Record<string, string> }>({ url: url("/"), method: "DELETE" });
      assert.equal(wrong.status, 405);
      assert.match(wrong.headers.allow ?? "", /GET/);
      const options = await gtls(fx.port, "/users/1", { method: "OPTIONS" });
      assert.equal(options.status, 204);
      assert.equal(options.headers.allow, "GET, HEAD, PUT, OPTIONS");
      const head = await gtls(fx.port, "/", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers["content-length"], "13");
      assert.equal(head.body.length, 0);
    });

    test("a stream body that fails midway resets the stream (H3_INTERNAL_ERROR), never a clean end", async () => {
      const r = await gtls(fx.port, "/fail-stream");
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), "partial\n");
      assert.deepEqual(r.streamCodes, [0x102], r.log.slice(-3000));
    });

    test("no TCP port: the addon's HTTP/2 fallback listener is not opened", async () => {
      const code = await new Promise<string>((resolve) => {
        const socket = connect(fx.port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve("connected");
        });
        socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      });
      assert.equal(code, "ECONNREFUSED");
    });

    test("3,000 datagrams of noise, forged and truncated Initials: an honest client is still served", async () => {
      await garbage(fx.port, 3_000);
      const r = await gtls(fx.port, "/users/7");
      assert.equal(r.status, 200, r.log.slice(-2000));
      assert.equal(r.body.toString(), '{"id":"7"}');
      assert.equal(fx.f.child.exitCode, null, `the ${runtime} server died: ${fx.f.stderr()}`);
    });
  });
}
