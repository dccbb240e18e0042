// tako's HTTP/2 codec on real sockets (the application of _routes.ts on a node:net or Bun.listen
// server on 127.0.0.1) driven by real clients: Node's node:http2, curl --http2-prior-knowledge,
// nghttp and h2load.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { H2ConnectionOptions } from "../../src/core/http2/index.ts";
import { promisify } from "node:util";
import { h2, h2Session } from "../_shared/h2-client.ts";
import { BIG } from "./_routes.ts";

/** A server running the test application: its port, and how to stop it. */
export interface Target {
  port: number;
  stop(): Promise<void>;
}

/** Starts the test application with these codec options. */
export type Start = (options: H2ConnectionOptions) => Promise<Target>;

interface AppFacts {
  bigQueued: number;
  unread: number;
  errors: number;
}

const run = promisify(execFile);
const SEND_BUF = 64 * 1024;

/** Waits until `cond` holds, polling 100 ms apart, at most `ms`; fails with `what`. */
async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function clientsSuite(runtime: string, start: Start): void {
  describe(`the codec served to real clients (${runtime})`, () => {
    let s: Target;
    let session: ClientHttp2Session;
    /** What the application recorded for `tag` (asked over a connection of its own). */
    const facts = async (tag = ""): Promise<AppFacts> => JSON.parse((await h2(session, `/state?tag=${tag}`)).text);
    before(async () => {
      s = await start({ maxSendBufSize: SEND_BUF });
      session = await h2Session(s.port);
    });
    after(async () => {
      session.destroy();
      await s.stop();
    });

    test("node:http2: GET / and its headers", async () => {
      const r = await h2(session, "/");
      assert.equal(r.status, 200);
      assert.equal(r.text, "Hello, World!");
      assert.equal(r.headers["content-type"], "text/plain; charset=utf-8");
      assert.equal(r.headers["content-length"], "13");
      const missing = await h2(session, "/nope");
      assert.equal(missing.status, 404);
      const fields = JSON.parse((await h2(session, "/headers", { headers: { "x-one": "1", cookie: "a=b" } })).text);
      assert.equal(fields.method, "GET");
      assert.match(fields.authority, /^127\.0\.0\.1:\d+$/);
      assert.ok(fields.fields.includes("x-one") && fields.fields.includes("cookie"), JSON.stringify(fields));
    });

    test("node:http2: 300 concurrent streams on one session (the client queues past MAX_CONCURRENT_STREAMS 100)", async () => {
      const errors = (await facts()).errors;
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => h2(session, i % 3 === 0 ? "/" : `/users/${i}`)));
      assert.deepEqual(new Set(results.map((r) => `${r.status} ${r.text}`)), new Set(["200 Hello, World!"]));
      assert.equal((await facts()).errors, errors, "no connection error");
    });

    test("node:http2: 1 MiB up and back (POST /echo), and 1 MiB down (GET /big), several at once", async () => {
      const up = BIG.map((b) => b ^ 0x5a);
      const [echo1, echo2, big1, big2] = await Promise.all([
        h2(session, "/echo", { method: "POST", body: up, timeoutMs: 20_000 }),
        h2(session, "/echo", { method: "POST", body: [up.subarray(0, 1000), up.subarray(1000)], timeoutMs: 20_000 }),
        h2(session, "/big", { timeoutMs: 20_000 }),
        h2(session, "/big", { timeoutMs: 20_000 }),
      ]);
      for (const echo of [echo1, echo2]) {
        assert.equal(echo.status, 200);
        assert.equal(echo.body.length, up.length);
        assert.ok(echo.body.equals(up), "the echo is byte for byte");
      }
      for (const big of [big1, big2]) {
        assert.equal(big.body.length, BIG.length);
        assert.ok(big.body.equals(BIG));
      }
    });

    test("node:http2: response trailers", async () => {
      const stream = session.request({ ":path": "/trailers" });
      const trailers = new Promise<Record<string, unknown>>((resolve) => stream.once("trailers", resolve));
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      await new Promise((r) => stream.once("end", r));
      assert.equal(Buffer.concat(chunks).toString(), "body");
      assert.equal((await trailers)["x-checksum"], "abc");
    });

    test("a client that does not read: the server queues at most the window plus the send buffer, then resumes", async () => {
      const reader = connect(`http://127.0.0.1:${s.port}`);
      try {
        const stream: ClientHttp2Stream = reader.request({ ":path": "/big?tag=slow" });
        stream.pause();
        await until(async () => (await facts("slow")).bigQueued > 0, 5000, "the first chunk");
        // Stalled: the queued figure stops moving (polled 100 ms apart).
        let last = -1;
        await until(
          async () => {
            const now = (await facts("slow")).bigQueued;
            const still = now === last;
            last = now;
            return still;
          },
          10_000,
          "the producer to stall",
        );
        // Node's client window is 65,535 per stream (and its socket buffers some more); a producer
        // that ignored backpressure would have queued the whole 1 MiB.
        assert.ok(last < BIG.length, `queued ${last} of ${BIG.length} for a reader that reads nothing`);
        assert.ok(last <= 65_535 + SEND_BUF + 64 * 1024, `queued ${last}`);
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.resume();
        await new Promise((r) => stream.once("end", r));
        assert.ok(Buffer.concat(chunks).equals(BIG));
      } finally {
        reader.destroy();
      }
    });

    test("an upload the application does not read is held to the stream window", async () => {
      const uploader = connect(`http://127.0.0.1:${s.port}`);
      try {
        const stream = uploader.request({ ":method": "POST", ":path": "/unread?tag=up" });
        stream.on("error", () => {});
        for (let i = 0; i < 16; i++) stream.write(BIG.subarray(i * 65_536, (i + 1) * 65_536));
        await until(async () => (await facts("up")).unread >= 256 * 1024, 5000, "the first 256 KiB");
        await new Promise((r) => setTimeout(r, 300)); // more would arrive now if the window let it
        assert.equal((await facts("up")).unread, 256 * 1024, "exactly SETTINGS_INITIAL_WINDOW_SIZE arrives while nothing is consumed");
      } finally {
        uploader.destroy();
      }
    });

    test("node:http2 with a 16 KiB stream window: 8 MiB down (about 1,000 WINDOW_UPDATE frames each way), twice at once, no GOAWAY", async () => {
      const errors = (await facts()).errors;
      const small = connect(`http://127.0.0.1:${s.port}`, { settings: { initialWindowSize: 16_384 } });
      try {
        const results = await Promise.all(
          [0, 1].map(
            () =>
              new Promise<number>((resolve, reject) => {
                const stream = small.request({ ":path": "/big8" });
                let n = 0;
                stream.on("data", (c: Buffer) => (n += c.length));
                stream.once("end", () => resolve(n));
                stream.once("error", reject);
              }),
          ),
        );
        assert.deepEqual(results, [8 * BIG.length, 8 * BIG.length]);
      } finally {
        small.destroy();
      }
      assert.equal((await facts()).errors, errors, "no connection error");
    });

    test("h2load with 16 KiB stream and 64 KiB connection windows: 4 downloads of 8 MiB, all 2xx", async () => {
      const { stdout } = await run("h2load", ["-n", "4", "-c", "1", "-m", "2", "-w", "14", "-W", "16", `http://127.0.0.1:${s.port}/big8`], { maxBuffer: 1024 * 1024 });
      assert.match(stdout, /status codes: 4 2xx/);
      assert.match(stdout, /4 succeeded/);
    });

    test("curl --http2-prior-knowledge: GET /, POST /echo, GET /big", async () => {
      const base = `http://127.0.0.1:${s.port}`;
      const get = await run("curl", ["-sS", "--http2-prior-knowledge", "-D", "-", `${base}/`]);
      assert.match(get.stdout, /^HTTP\/2 200/);
      assert.match(get.stdout, /Hello, World!$/);
      const dir = mkdtempSync(join(tmpdir(), "h2codec-"));
      const file = join(dir, "up.bin");
      writeFileSync(file, BIG);
      const echo = await run("curl", [
        "-sS",
        "--http2-prior-knowledge",
        "--data-binary",
        `@${file}`,
        "-o",
        join(dir, "back.bin"),
        "-w",
        "%{http_code} %{size_download}",
        `${base}/echo`,
      ]);
      assert.equal(echo.stdout, `200 ${BIG.length}`);
      const big = await run("curl", ["-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{http_version}", `${base}/big`]);
      assert.equal(big.stdout, `200 ${BIG.length} 2`);
    });

    test("nghttp (PRIORITY frames, its own windows): GET /, GET /big, an upload to /echo", async () => {
      const base = `http://127.0.0.1:${s.port}`;
      const get = await run("nghttp", [`${base}/`]);
      assert.equal(get.stdout, "Hello, World!");
      const big = await run("nghttp", ["-s", `${base}/big`], { maxBuffer: 4 * 1024 * 1024 });
      assert.match(big.stdout, /\s200\s+1M \/big/);
      const dir = mkdtempSync(join(tmpdir(), "h2codec-"));
      const file = join(dir, "up.bin");
      writeFileSync(file, BIG.subarray(0, 300_000));
      const echo = await run("nghttp", ["-d", file, `${base}/echo`], { encoding: "buffer", maxBuffer: 4 * 1024 * 1024 });
      assert.ok(Buffer.from(echo.stdout).equals(Buffer.from(BIG.subarray(0, 300_000))));
    });

    test("h2load: 20,000 requests, 10 connections, 10 streams each, all 2xx", async () => {
      const { stdout } = await run("h2load", ["-n", "20000", "-c", "10", "-m", "10", `http://127.0.0.1:${s.port}/`]);
      assert.match(stdout, /requests: 20000 total, 20000 started, 20000 done, 20000 succeeded, 0 failed, 0 errored, 0 timeout/);
      assert.match(stdout, /status codes: 20000 2xx/);
    });

    test("h2load: 500 uploads of 64 KiB to /echo, all 2xx", async () => {
      const dir = mkdtempSync(join(tmpdir(), "h2codec-"));
      const file = join(dir, "up.bin");
      writeFileSync(file, BIG.subarray(0, 64 * 1024));
      const { stdout } = await run("h2load", ["-n", "500", "-c", "5", "-m", "10", "-d", file, `http://127.0.0.1:${s.port}/echo`]);
      assert.match(stdout, /status codes: 500 2xx/);
      assert.match(stdout, /500 succeeded/);
    });
  });
}
