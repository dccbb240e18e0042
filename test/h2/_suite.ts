// The h2c suite: what only HTTP/2 cleartext has, probed with Node's http2 client and a raw-frame
// client (SETTINGS, limits, floods, drain). The Router's behaviour over h2c (routes, bodies,
// errors, streaming, curl --http2-prior-knowledge …) is in the contract suite (test/contract/).
// Two fixtures per runtime: one with the default config (an h2c-only port), one with small
// limits and HTTP/1.1 on the same port, which the drain test stops last.
import assert from "node:assert/strict";
import type { ClientHttp2Session } from "node:http2";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { after, before, describe, test } from "node:test";
import { testCerts } from "../_shared/certs.ts";
import { h2, h2Session, remoteSettings, type H2Result } from "../_shared/h2-client.ts";
import { ErrorCode, errorName, Flag, FrameType, frameTypeName, H2RawConn, request } from "../_shared/h2-raw/index.ts";
import { http } from "../_shared/http-client.ts";
import { startFixture, type Fixture, type Runtime } from "../_shared/spawn.ts";
import { h2tls } from "../_shared/tls-client.ts";
import { limitsSuite, LIMITS_CONFIG } from "./_limits.ts";

export function h2cSuite(runtime: Runtime): void {
  let f: Fixture;
  let port = 0;
  let session: ClientHttp2Session;
  before(async () => {
    f = await startFixture(runtime, "test/h2/_main.ts");
    port = f.port;
    session = await h2Session(port);
  });
  after(async () => {
    session?.destroy();
    assert.equal(f.child.exitCode, null, `${runtime} fixture died; stderr:\n${f.stderr()}`);
    await f.stop();
  });

  describe(`h2c with the default config (${runtime})`, () => {
    test("default SETTINGS: 100 streams, 16 KiB header list", async () => {
      const s = await remoteSettings(session);
      assert.equal(s.maxConcurrentStreams, 100);
      assert.equal(s.maxHeaderListSize, 16 * 1024);
    });

    test("an h2c-only port does not answer HTTP/1.1 as if it were HTTP/2", async () => {
      const res = await http(port, "/").catch((e: Error) => e);
      // The server answers in HTTP/2 (SETTINGS, GOAWAY): not a response an HTTP/1.1 client can parse.
      assert.ok(res instanceof Error, `HTTP/1.1 on an h2c-only port must fail; got ${res instanceof Error ? "" : res.status}`);
      assert.equal((res as NodeJS.ErrnoException).code, "HPE_INVALID_CONSTANT", res.message);
      assert.equal((await h2(port, "/")).status, 200, "the server keeps serving h2c");
    });
  });

  failedBodySuite(
    runtime,
    "h2c",
    () => f,
    async (path, opts) => h2(session, path, opts),
  );

  limitsSuite(runtime, true, () => startFixture(runtime, "test/h2/_main.ts", { TAKO_CONFIG: JSON.stringify(LIMITS_CONFIG), TAKO_H2C_HTTP1: "1" }));

  describe(`h2 over TLS (${runtime})`, () => {
    const certs = testCerts();
    let tf: Fixture;
    let relay: TlsRelay;
    let tlsSession: ClientHttp2Session;
    before(async () => {
      tf = await startFixture(runtime, "test/h2/_main.ts", { TAKO_H2_TLS: "1" });
      relay = await tlsRelay(tf.port, certs.read(certs.ca.cert));
      tlsSession = await h2tls(certs, tf.port);
    });
    after(async () => {
      tlsSession?.destroy();
      relay?.close();
      assert.equal(tf.child.exitCode, null, `${runtime} TLS fixture died; stderr:\n${tf.stderr()}`);
      await tf.stop();
    });
    failedBodySuite(
      runtime,
      "TLS",
      () => ({ port: relay.port }),
      (path, opts) => h2(tlsSession, path, opts),
      "https",
      () => relay.alpn,
    );
  });
}

/**
 * A cleartext loopback port whose every connection is relayed byte for byte to its own TLS
 * connection to `port` (SNI localhost, ALPN offering only h2): the raw-frame client sees exactly
 * the frames the server sent over TLS. `alpn` is what the last TLS connection negotiated.
 */
interface TlsRelay {
  readonly port: number;
  readonly alpn: string | false | null;
  close(): void;
}

async function tlsRelay(port: number, ca: string): Promise<TlsRelay> {
  let alpn: string | false | null = null;
  const server: NetServer = createNetServer((plain) => {
    plain.pause();
    const secure = tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ca, ALPNProtocols: ["h2"] }, () => {
      alpn = secure.alpnProtocol;
      plain.pipe(secure);
      secure.pipe(plain);
      plain.resume();
    });
    const end = (): void => {
      plain.destroy();
      secure.destroy();
    };
    for (const s of [plain, secure]) {
      s.on("error", end);
      s.on("close", end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get alpn() {
      return alpn;
    },
    close: () => server.close(),
  };
}

/** One frame as a word: `HEADERS`, `DATA`, `DATA+END_STREAM`, `RST_STREAM(INTERNAL_ERROR)`. */
function frameWord(type: number, flags: number, payload: Buffer): string {
  if (type === FrameType.RST_STREAM) return `RST_STREAM(${errorName(payload.readUInt32BE(0))})`;
  const ended = (type === FrameType.DATA || type === FrameType.HEADERS) && (flags & Flag.END_STREAM) !== 0;
  return `${frameTypeName(type)}${ended ? "+END_STREAM" : ""}`;
}

/**
 * A handler's streamed body that fails after its first chunk went out must not look complete:
 * the client sees the stream reset (RST_STREAM, an error code) and never END_STREAM on it; the
 * connection and its next streams keep working; router.onError sees the error once. Node serves
 * HTTP/2 with tako's node:http2 transport, Bun and Deno with tako's codec (both reset with INTERNAL_ERROR).
 */
function failedBodySuite(
  runtime: Runtime,
  transport: "h2c" | "TLS",
  target: () => { port: number },
  client: (path: string, opts?: { method?: string }) => Promise<H2Result>,
  scheme = "http",
  alpn?: () => string | false | null,
): void {
  let ids = 0;
  /** POSTs to a latch until a handler waiting on it was released (polled, bounded: a handler may not wait yet when its first chunk arrives). */
  const release = async (path: string): Promise<void> => {
    let released = false;
    for (let attempt = 0; attempt < 100 && !released; attempt++) {
      released = JSON.parse((await client(path, { method: "POST" })).text).released;
      if (!released) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(released, `nothing waited on ${path}`);
  };
  describe(`a streamed body that fails midway over ${transport} (${runtime})`, () => {
    for (const kind of ["iterable", "readable"] as const) {
      test(`${kind === "iterable" ? "async iterable" : "ReadableStream"}: RST_STREAM(INTERNAL_ERROR), never END_STREAM; the connection serves on`, {
        timeout: 20_000,
      }, async () => {
        const id = `${transport}-${kind}-${++ids}`;
        const conn = await H2RawConn.connect(target().port);
        try {
          await conn.nextFrame((fr) => fr.type === FrameType.SETTINGS && (fr.flags & Flag.ACK) === 0, 10_000);
          if (alpn !== undefined) assert.equal(alpn(), "h2", "the relay negotiated h2 over TLS");
          conn.write(request(1, { path: `/h2/midway/${id}?kind=${kind}`, scheme }));
          await conn.nextFrame((fr) => fr.type === FrameType.DATA && fr.streamId === 1, 10_000);
          // Another stream open on the connection meanwhile (the contract app's latched stream).
          conn.write(request(3, { path: `/stream/${id}`, scheme }));
          await conn.nextFrame((fr) => fr.type === FrameType.DATA && fr.streamId === 3, 10_000);
          // Let the body fail.
          await release(`/h2/break/${id}`);
          await conn.until(() => conn.resets.has(1) || conn.endedStreams.has(1), 10_000, "stream 1 to end or be reset");
          const words = conn.frames.filter((fr) => fr.streamId === 1).map((fr) => frameWord(fr.type, fr.flags, fr.payload));
          assert.equal(conn.endedStreams.has(1), false, `END_STREAM on a failed body makes it look complete; frames on stream 1: ${words.join(" ")}`);
          assert.equal(words[0], "HEADERS");
          assert.ok(words.slice(1, -1).length > 0 && words.slice(1, -1).every((w) => w === "DATA"), `frames on stream 1: ${words.join(" ")}`);
          assert.equal(words.at(-1), "RST_STREAM(INTERNAL_ERROR)", `frames on stream 1: ${words.join(" ")}`);
          assert.equal(conn.resets.get(1), ErrorCode.INTERNAL_ERROR);
          assert.match(Buffer.concat(conn.bodies.get(1) ?? []).toString(), new RegExp(`^partial ${id}\n$`));
          // The other stream completes, and the connection serves a new one.
          await release(`/release/${id}`);
          assert.equal((await conn.response(3, 10_000)).body.toString(), "first\nsecond\n");
          conn.write(request(5, { path: "/users/after", scheme }));
          assert.equal((await conn.response(5, 10_000)).body.toString(), '{"id":"after"}');
          assert.equal(conn.goaways.length, 0, conn.summary());
          // The hook saw the error once.
          assert.deepEqual(JSON.parse((await client(`/h2/failures/${id}`)).text), { count: 1 });
        } finally {
          conn.close();
        }
      });
    }
  });
}
