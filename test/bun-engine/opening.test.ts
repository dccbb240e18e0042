// Bun's Bun.listen path on the wire, for what a connection opens with before HTTP/1.1: TLS
// (upgradeTLS, HTTP/2 off) and the PROXY header. req.conn's TLS facts (ALPN, SNI name, version,
// cipher, a verified client certificate); a silent connection closed at tlsHandshakeTimeout with
// a FIN, its descriptor freed and a refusal (tls) reported; a PROXY header late, bad, or carrying
// v2 TLVs; a certificate resolver answering later, asked with the SNI name read from the
// ClientHello; and connections made between bind and spawn* served on the same socket. Real
// sockets on 127.0.0.1, Node's tls/net clients, bounded waits.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readdirSync } from "node:fs";
import { connect as netConnect, Socket } from "node:net";
import { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { testCerts } from "../_shared/certs.ts";
import { v1, v2 } from "../_shared/proxy-header.ts";
import { commandFor, useFixture, type Fixture } from "../_shared/spawn.ts";

const FIXTURE = "test/bun-engine/_opening-main.ts";
const certs = testCerts();
const CA = certs.read(certs.ca.cert);

/** One request over TLS (SNI `servername`, ALPN `http/1.1`); resolves with the response text, read until the server closes. */
function tlsAsk(port: number, path: string, opts: { servername?: string; maxVersion?: "TLSv1.2"; client?: { cert: string; key: string } } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({
      host: "127.0.0.1",
      port,
      ca: CA,
      servername: opts.servername ?? "localhost",
      checkServerIdentity: () => undefined,
      ALPNProtocols: ["http/1.1"],
      maxVersion: opts.maxVersion,
      cert: opts.client ? certs.read(opts.client.cert) : undefined,
      key: opts.client ? certs.read(opts.client.key) : undefined,
    });
    let text = "";
    const timer = setTimeout(() => s.destroy(new Error(`no answer to ${path} in 10 s; got ${JSON.stringify(text)}`)), 10_000);
    s.setEncoding("utf8");
    s.on("data", (c: string) => (text += c));
    s.once("secureConnect", () => s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`));
    s.once("error", (e) => (clearTimeout(timer), reject(e)));
    s.once("close", () => (clearTimeout(timer), resolve(text)));
  });
}

const bodyOf = (answer: string): unknown => {
  assert.match(answer, /^HTTP\/1\.1 200 /, answer.slice(0, 200));
  return JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
};

/** Writes `bytes` on a fresh connection and reads until the server closes it; `reset` when it was reset. */
function rawExchange(port: number, bytes: Buffer[], timeoutMs = 10_000): Promise<{ text: string; reset: boolean; closedAt: number; openedAt: number }> {
  return new Promise((resolve, reject) => {
    const s = new Socket();
    let text = "";
    let reset = false;
    let openedAt = 0;
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`not closed in ${timeoutMs} ms; got ${JSON.stringify(text.slice(0, 200))}`))), timeoutMs);
    s.on("data", (d: Buffer) => (text += d.toString("latin1")));
    s.on("error", (e: NodeJS.ErrnoException) => (reset = e.code === "ECONNRESET"));
    s.on("close", () => (clearTimeout(timer), resolve({ text, reset, closedAt: Date.now(), openedAt })));
    s.connect(port, "127.0.0.1", () => {
      openedAt = Date.now();
      for (const b of bytes) s.write(b);
    });
  });
}

const fds = (f: Fixture): number => readdirSync(`/proc/${f.child.pid}/fd`).length;

async function until<T>(probe: () => T | Promise<T>, done: (v: T) => boolean, what: string, attempts = 200): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await probe();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  return assert.fail(`gave up waiting for ${what}; last: ${JSON.stringify(last)}`);
}

describe("TLS on Bun.listen (HTTP/2 off)", () => {
  const fx = useFixture("bun", FIXTURE, { TAKO_OPENING: "tls", TAKO_CONFIG: JSON.stringify({ tlsHandshakeTimeout: 1000 }) });

  test("req.conn.tls: ALPN, the SNI name, the version and the cipher; no peer certificate without mTLS", async () => {
    const conn = bodyOf(await tlsAsk(fx.port, "/conn")) as Record<string, unknown> & { tls: Record<string, unknown> };
    assert.equal(conn.httpVersion, "1.1");
    assert.equal(conn.remoteAddress, "127.0.0.1");
    assert.equal(conn.family, "IPv4");
    assert.equal(conn.proxy, null);
    assert.deepEqual(conn.tls, { alpnProtocol: "http/1.1", serverName: "localhost", protocol: "TLSv1.3", cipher: conn.tls.cipher, peerCertificate: null });
    assert.match(String(conn.tls.cipher), /^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/);
    const v12 = bodyOf(await tlsAsk(fx.port, "/conn", { maxVersion: "TLSv1.2", servername: "other.example" })) as { tls: Record<string, unknown> };
    assert.equal(v12.tls.protocol, "TLSv1.2");
    assert.equal(v12.tls.serverName, "other.example");
    assert.match(String(v12.tls.cipher), /^TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/);
  });

  test("20 silent connections are closed (FIN, not reset) at tlsHandshakeTimeout, refused (tls), their descriptors freed", { timeout: 30_000 }, async () => {
    await tlsAsk(fx.port, "/conn"); // warm: the descriptor count settles
    const baseline = await until(
      () => fds(fx.f),
      () => true,
      "a descriptor count",
    );
    const silent = await Promise.all(Array.from({ length: 20 }, () => rawExchange(fx.port, [])));
    for (const r of silent) {
      const ms = r.closedAt - r.openedAt;
      assert.ok(ms >= 800 && ms < 5000, `closed after ${ms} ms (tlsHandshakeTimeout 1000 ms)`);
      assert.equal(r.reset, false, "closed with a FIN");
      assert.equal(r.text, "");
    }
    await fx.f.waitForLine(/^REFUSED tls no TLS handshake within 1000 ms$/);
    await until(
      () => fds(fx.f),
      (n) => n <= baseline,
      `descriptors back to ${baseline}`,
    );
  });

  test("a 32 MiB streamed response to a client that stops reading, then reads: every byte; a 16 MiB upload read whole", { timeout: 60_000 }, async () => {
    const s = tlsConnect({ host: "127.0.0.1", port: fx.port, ca: CA, servername: "localhost", ALPNProtocols: ["http/1.1"] });
    await new Promise<void>((resolve, reject) => {
      s.once("secureConnect", resolve);
      s.once("error", reject);
    });
    s.pause();
    s.write("GET /big/32 HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await new Promise((r) => setTimeout(r, 500)); // the server's writes back up meanwhile
    const head = "HTTP/1.1 200";
    let received = 0;
    let text = "";
    let tail = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stalled after ${received} bytes`)), 30_000);
      s.on("data", (d: Buffer) => {
        received += d.length;
        if (text.length < 4096) text += d.toString("latin1");
        tail = (tail + d.subarray(-16).toString("latin1")).slice(-16);
        if (tail.endsWith("\r\n0\r\n\r\n")) {
          clearTimeout(timer);
          resolve();
        }
      });
      s.once("error", reject);
      s.resume();
    });
    assert.ok(text.startsWith(head), text.slice(0, 100));
    // 512 chunks of 64 KiB, each with its chunk-size line: at least the body's bytes arrived.
    assert.ok(received > 32 * 1024 * 1024, `received ${received} bytes`);
    const body = Buffer.alloc(16 * 1024 * 1024, 98);
    s.write(`POST /count HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    s.write(body);
    let answer = "";
    s.removeAllListeners("data");
    s.on("data", (d: Buffer) => (answer += d.toString("latin1")));
    await new Promise((r) => s.once("close", r));
    assert.match(answer, /^HTTP\/1\.1 200 [\s\S]*\r\n\r\n16777216$/);
  });

  test("a client speaking HTTP in clear is refused (tls) and closed; the server serves on", async () => {
    const r = await rawExchange(fx.port, [Buffer.from("GET / HTTP/1.1\r\nHost: t\r\n\r\n")]);
    assert.doesNotMatch(r.text, /HTTP\/1\.1 200/);
    await fx.f.waitForLine(/^REFUSED tls /);
    assert.equal((bodyOf(await tlsAsk(fx.port, "/conn")) as { httpVersion: string }).httpVersion, "1.1");
  });
});

describe("mutual TLS on Bun.listen (HTTP/2 off, required)", () => {
  const fx = useFixture("bun", FIXTURE, { TAKO_OPENING: "tls", TAKO_CLIENT_AUTH: "required" });

  test("the verified client certificate's facts in req.conn; none, or a stranger's, is refused (tls)", async () => {
    const x509 = new X509Certificate(certs.read(certs.client.cert));
    const conn = bodyOf(await tlsAsk(fx.port, "/conn", { client: certs.client })) as { tls: { peerCertificate: Record<string, unknown> } };
    const peer = conn.tls.peerCertificate;
    assert.match(String(peer.subject), /CN=client one/);
    assert.match(String(peer.issuer), /CN=tako test CA/);
    assert.equal(peer.serialNumber, x509.serialNumber.toUpperCase());
    assert.equal(peer.fingerprint256, x509.fingerprint256);
    assert.equal(new Date(String(peer.validTo)).getTime(), new Date(x509.validTo).getTime());
    assert.equal(peer.raw, x509.raw.length);
    for (const client of [undefined, certs.strangerClient]) {
      const answer = await tlsAsk(fx.port, "/conn", { client }).catch((e: Error) => e.message);
      assert.doesNotMatch(answer, /HTTP\/1\.1 200/, `${client?.cert ?? "no certificate"} must not be served`);
    }
    await fx.f.waitForLine(/^REFUSED tls .*(no client certificate|did not verify)/);
  });
});

/** One handshake (SNI `servername`): the server certificate's CN and serial. */
function certOf(port: number, servername: string): Promise<{ cn: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, ca: CA, servername, checkServerIdentity: () => undefined, ALPNProtocols: ["http/1.1"] });
    s.once("secureConnect", () => {
      const peer = s.getPeerCertificate();
      resolve({ cn: String(peer.subject.CN), serial: peer.serialNumber.toUpperCase() });
      s.destroy();
    });
    s.once("error", reject);
  });
}

describe("SNI resolver and reload on Bun.listen (HTTP/2 off)", () => {
  const fx = useFixture("bun", FIXTURE, { TAKO_OPENING: "tls-sni" });
  const serial = (f: { cert: string }): string => new X509Certificate(certs.read(f.cert)).serialNumber.toUpperCase();

  test("the certificate by SNI name; a reload is seen by the next handshake, an open connection keeps its own", async () => {
    assert.equal((await certOf(fx.port, "a.test")).cn, "a.test");
    assert.equal((await certOf(fx.port, "A.TEST")).cn, "a.test");
    assert.equal((await certOf(fx.port, "localhost")).serial, serial(certs.localhost));
    const conn = bodyOf(await tlsAsk(fx.port, "/conn", { servername: "a.test" })) as { tls: { serverName: string } };
    assert.equal(conn.tls.serverName, "a.test");
    // A connection opened before the reload, used after it.
    const old = tlsConnect({ host: "127.0.0.1", port: fx.port, ca: CA, servername: "localhost", ALPNProtocols: ["http/1.1"] });
    await new Promise((r, j) => (old.once("secureConnect", r), old.once("error", j)));
    const oldSerial = old.getPeerCertificate().serialNumber.toUpperCase();
    assert.equal(oldSerial, serial(certs.localhost));
    const reloaded = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: "127.0.0.1", port: fx.port, ca: CA, servername: "localhost" });
      let text = "";
      s.on("data", (d: Buffer) => (text += d.toString("latin1")));
      s.once("secureConnect", () => s.write("POST /reload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
      s.once("close", () => resolve(text));
      s.once("error", reject);
    });
    assert.match(reloaded, /\r\n\r\nreloaded$/);
    assert.equal((await certOf(fx.port, "localhost")).serial, serial(certs.localhost2));
    assert.equal((await certOf(fx.port, "a.test")).cn, "a.test");
    const answer = await new Promise<string>((resolve, reject) => {
      let text = "";
      old.on("data", (d: Buffer) => (text += d.toString("latin1")));
      old.once("close", () => resolve(text));
      old.once("error", reject);
      old.write("GET /conn HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    });
    assert.match(answer, /^HTTP\/1\.1 200 /);
  });
});

/**
 * A duplex over a TCP connection to `port` that sends the first write (the ClientHello) in small
 * pieces a millisecond apart (one byte at a time for its first 64 bytes, record headers included,
 * then 40 at a time), and everything after it as it comes.
 */
function drippingSocket(port: number): Duplex {
  const raw = netConnect(port, "127.0.0.1");
  raw.setNoDelay(true);
  let first = true;
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      if (!first) return raw.write(chunk, () => done());
      first = false;
      let i = 0;
      const next = (): void => {
        if (i === chunk.length) return done();
        const end = Math.min(chunk.length, i < 64 ? i + 1 : i + 40);
        raw.write(chunk.subarray(i, end));
        i = end;
        setTimeout(next, 1);
      };
      next();
    },
    final(done) {
      raw.end(done);
    },
    destroy(error, done) {
      raw.destroy();
      done(error);
    },
  });
  raw.on("data", (d: Buffer) => duplex.push(d));
  raw.on("end", () => duplex.push(null));
  raw.on("error", (e) => duplex.destroy(e));
  raw.on("close", () => duplex.destroy());
  return duplex;
}

describe("an asynchronous SNI resolver on Bun.listen: the certificate chosen from the ClientHello before the handshake (HTTP/2 off)", () => {
  const fx = useFixture("bun", FIXTURE, { TAKO_OPENING: "tls-async", TAKO_CONFIG: JSON.stringify({ tlsHandshakeTimeout: 1500 }) });

  test("by SNI name (a.test, localhost) and for a client without SNI, answered 20 ms later; req.conn.tls has the name", async () => {
    assert.equal((await certOf(fx.port, "a.test")).cn, "a.test");
    assert.equal((await certOf(fx.port, "localhost")).cn, "localhost");
    const noSni = await new Promise<string>((resolve, reject) => {
      // An IP address as the host: Node sends no SNI.
      const s = tlsConnect({ host: "127.0.0.1", port: fx.port, ca: CA, checkServerIdentity: () => undefined, ALPNProtocols: ["http/1.1"] });
      s.once("secureConnect", () => (resolve(String(s.getPeerCertificate().subject.CN)), s.destroy()));
      s.once("error", reject);
    });
    assert.equal(noSni, "localhost");
    const conn = bodyOf(await tlsAsk(fx.port, "/conn", { servername: "a.test" })) as { tls: { serverName: string; alpnProtocol: string } };
    assert.deepEqual([conn.tls.serverName, conn.tls.alpnProtocol], ["a.test", "http/1.1"]);
  });

  test("no certificate for the name: the client reads a fatal unrecognized_name alert, refused (tls); others are served on", async () => {
    const error = await certOf(fx.port, "none.test").then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(error !== null, "the handshake must fail");
    assert.match(error.message, /unrecognized name/i);
    await fx.f.waitForLine(/^REFUSED tls no certificate for server name "none\.test": no certificate for none\.test$/);
    assert.equal((await certOf(fx.port, "a.test")).cn, "a.test");
  });

  test("a ClientHello dripped in pieces a millisecond apart is read whole, then the handshake and the request are served", { timeout: 20_000 }, async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ socket: drippingSocket(fx.port), servername: "a.test", ca: CA, checkServerIdentity: () => undefined, ALPNProtocols: ["http/1.1"] });
      let text = "";
      s.setEncoding("utf8");
      s.on("data", (c: string) => (text += c));
      s.once("secureConnect", () => s.write("GET /conn HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"));
      s.once("error", reject);
      s.once("close", () => resolve(text));
    });
    assert.equal((bodyOf(answer) as { tls: { serverName: string } }).tls.serverName, "a.test");
  });

  test("a partial ClientHello is closed at tlsHandshakeTimeout (FIN, refused tls); HTTP in clear is refused at once", { timeout: 20_000 }, async () => {
    const partial = await rawExchange(fx.port, [Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])]);
    const ms = partial.closedAt - partial.openedAt;
    assert.ok(ms >= 1200 && ms < 6000, `closed after ${ms} ms (tlsHandshakeTimeout 1500 ms)`);
    assert.deepEqual([partial.reset, partial.text], [false, ""]);
    await fx.f.waitForLine(/^REFUSED tls no TLS handshake within 1500 ms$/);
    const clear = await rawExchange(fx.port, [Buffer.from("GET / HTTP/1.1\r\nHost: t\r\n\r\n")]);
    assert.ok(clear.closedAt - clear.openedAt < 1000, "refused at once, not at the deadline");
    assert.equal(clear.text, "");
    await fx.f.waitForLine(/^REFUSED tls not a TLS ClientHello: not a TLS handshake record$/);
  });
});

describe("PROXY before TLS with an asynchronous SNI resolver on Bun.listen (HTTP/2 off)", () => {
  const fx = useFixture("bun", FIXTURE, { TAKO_OPENING: "proxy-tls-async" });

  test("the header, then the ClientHello read for its name: the client's address and the TLS facts", async () => {
    for (const corked of [true, false]) {
      const conn = bodyOf(await tlsAfterHeader(fx.port, v1("198.51.100.40", "192.0.2.1", 4040, 443), "/conn", corked)) as {
        remoteAddress: string;
        tls: { serverName: string };
      };
      assert.deepEqual([conn.remoteAddress, conn.tls.serverName], ["198.51.100.40", "localhost"], `corked: ${corked}`);
    }
  });
});

describe("PROXY before HTTP/1.1 on Bun.listen", () => {
  const fx = useFixture("bun", FIXTURE, { TAKO_OPENING: "proxy", TAKO_CONFIG: JSON.stringify({ proxyReadTimeout: 500 }) });
  const get = (path: string, extra = ""): Buffer => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}Connection: close\r\n\r\n`);

  test("v2 TLVs and the client's address in req.conn; Forwarded from the header, spoofed X-Forwarded-For dropped", async () => {
    const header = v2({
      src: "198.51.100.4",
      dst: "192.0.2.9",
      sport: 4242,
      dport: 443,
      tlvs: [
        [0x02, Buffer.from("example.com")],
        [0x05, Buffer.from([9, 9])],
      ],
      crc: "good",
    });
    const conn = bodyOf((await rawExchange(fx.port, [header, get("/conn")])).text) as Record<string, unknown> & { proxy: Record<string, unknown> };
    assert.equal(conn.remoteAddress, "198.51.100.4");
    assert.equal(conn.remotePort, 4242);
    assert.equal(conn.localAddress, "127.0.0.1");
    assert.equal(conn.tls, null);
    assert.equal(conn.proxy.version, 2);
    assert.equal(conn.proxy.authority, "example.com");
    assert.equal(conn.proxy.uniqueId, 2);
    assert.equal(conn.proxy.crc32cVerified, true);
    assert.equal(conn.proxy.destinationAddress, "192.0.2.9");
    assert.deepEqual(conn.proxy.tlvs, [
      { type: 0x02, length: 11 },
      { type: 0x05, length: 2 },
      { type: 0x03, length: 4 },
    ]);
    const fwd = bodyOf((await rawExchange(fx.port, [Buffer.concat([v1("203.0.113.5", "192.0.2.9", 1, 80), get("/fwd", "X-Forwarded-For: 6.6.6.6\r\n")])])).text);
    assert.deepEqual(fwd, { forwarded: "for=203.0.113.5", xff: null, headers: [["forwarded", "for=203.0.113.5"]] });
  });

  test("a late header: closed at proxyReadTimeout without an answer, refused (proxy)", { timeout: 15_000 }, async () => {
    const r = await rawExchange(fx.port, [Buffer.from("PROXY TCP4 1.2.")]);
    const ms = r.closedAt - r.openedAt;
    assert.ok(ms >= 400 && ms < 3000, `closed after ${ms} ms (proxyReadTimeout 500 ms)`);
    assert.equal(r.text, "");
    await fx.f.waitForLine(/^REFUSED proxy no complete PROXY header within 500 ms$/);
  });

  test("a request without a header (required mode): closed without an answer, refused (proxy)", async () => {
    const r = await rawExchange(fx.port, [get("/conn")]);
    assert.equal(r.text, "");
    await fx.f.waitForLine(/^REFUSED proxy not a PROXY protocol header/);
  });
});

/** TLS over a raw connection whose first bytes are `header` (sent in one packet with the ClientHello when `corked`); resolves with the answer to GET `path`. */
function tlsAfterHeader(port: number, header: Buffer, path: string, corked = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const raw = new Socket();
    raw.on("error", reject);
    raw.connect(port, "127.0.0.1", async () => {
      if (corked) raw.cork();
      raw.write(header);
      if (!corked) await new Promise((r) => setTimeout(r, 50));
      const s = tlsConnect({ socket: raw, servername: "localhost", ca: CA, ALPNProtocols: ["http/1.1"] });
      if (corked) process.nextTick(() => raw.uncork());
      let text = "";
      s.setEncoding("utf8");
      s.on("data", (c: string) => (text += c));
      s.once("secureConnect", () => s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`));
      s.once("error", reject);
      s.once("close", () => resolve(text));
    });
  });
}

describe("PROXY before TLS on Bun.listen (HTTP/2 off)", () => {
  const fx = useFixture("bun", FIXTURE, { TAKO_OPENING: "proxy-tls", TAKO_CONFIG: JSON.stringify({ proxyReadTimeout: 500, tlsHandshakeTimeout: 800 }) });

  test("the header and the ClientHello in one packet, or apart: the client's address and the TLS facts", async () => {
    for (const corked of [true, false]) {
      const conn = bodyOf(await tlsAfterHeader(fx.port, v1("198.51.100.20", "192.0.2.1", 777, 443), "/conn", corked)) as {
        remoteAddress: string;
        remotePort: number;
        tls: { alpnProtocol: string; serverName: string };
        proxy: { version: number };
      };
      assert.deepEqual([conn.remoteAddress, conn.remotePort, conn.proxy.version], ["198.51.100.20", 777, 1], `corked: ${corked}`);
      assert.deepEqual([conn.tls.alpnProtocol, conn.tls.serverName], ["http/1.1", "localhost"]);
    }
    const v2conn = bodyOf(await tlsAfterHeader(fx.port, v2({ src: "2001:db8::9", dst: "2001:db8::1", sport: 9, dport: 443, crc: "good" }), "/conn")) as {
      remoteAddress: string;
      proxy: { crc32cVerified: boolean };
    };
    assert.deepEqual([v2conn.remoteAddress, v2conn.proxy.crc32cVerified], ["2001:db8::9", true]);
  });

  test("a ClientHello without a header is refused (proxy); a header and no ClientHello is closed at tlsHandshakeTimeout (tls)", { timeout: 15_000 }, async () => {
    const noHeader = await tlsAfterHeader(fx.port, Buffer.alloc(0), "/conn").catch((e: Error) => e.message);
    assert.doesNotMatch(noHeader, /HTTP\/1\.1 200/);
    await fx.f.waitForLine(/^REFUSED proxy not a PROXY protocol header/);
    const silent = await rawExchange(fx.port, [v1("198.51.100.21", "192.0.2.1", 1, 443)]);
    const ms = silent.closedAt - silent.openedAt;
    assert.ok(ms >= 600 && ms < 4000, `closed after ${ms} ms (tlsHandshakeTimeout 800 ms after the header)`);
    assert.equal(silent.reset, false);
    await fx.f.waitForLine(/^REFUSED tls no TLS handshake within 800 ms$/);
  });
});

describe("PROXY optional before TLS on Bun.listen (HTTP/2 off)", () => {
  const fx = useFixture("bun", FIXTURE, { TAKO_OPENING: "proxy-tls-optional" });

  test("with a header the client's address; a plain ClientHello is served with the socket's", async () => {
    const proxied = bodyOf(await tlsAfterHeader(fx.port, v1("198.51.100.30", "192.0.2.1", 3, 443), "/conn")) as { remoteAddress: string };
    assert.equal(proxied.remoteAddress, "198.51.100.30");
    const plain = bodyOf(await tlsAsk(fx.port, "/conn")) as { remoteAddress: string; proxy: unknown; tls: { alpnProtocol: string } };
    assert.deepEqual([plain.remoteAddress, plain.proxy, plain.tls.alpnProtocol], ["127.0.0.1", null, "http/1.1"]);
  });
});

describe("PROXY optional on Bun.listen", () => {
  const fx = useFixture("bun", FIXTURE, { TAKO_OPENING: "proxy-optional" });

  test("with a header the client's address; without one the socket's", async () => {
    const get = Buffer.from("GET /conn HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    const proxied = bodyOf((await rawExchange(fx.port, [v1("198.51.100.8", "192.0.2.1", 7, 80), get])).text) as { remoteAddress: string };
    assert.equal(proxied.remoteAddress, "198.51.100.8");
    const plain = bodyOf((await rawExchange(fx.port, [get])).text) as { remoteAddress: string; proxy: unknown };
    assert.deepEqual([plain.remoteAddress, plain.proxy], ["127.0.0.1", null]);
  });
});

/**
 * Starts the fixture with TAKO_EARLY=1 and, as soon as it prints "BOUND <port>" (bound, not
 * served yet), runs `ask`; the fixture spawns its server 500 ms later.
 */
async function askBeforeServe(env: Record<string, string>, ask: (port: number) => Promise<string>): Promise<string> {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const [cmd, args] = commandFor("bun", fileURLToPath(new URL("_opening-main.ts", import.meta.url)));
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env, TAKO_EARLY: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      const m = /^BOUND (\d+)$/.exec(line);
      if (m !== null) return await ask(Number(m[1]));
    }
    return assert.fail(`the fixture exited before BOUND; stderr: ${stderr}`);
  } finally {
    child.kill("SIGKILL");
  }
}

describe("connections made between bind and spawn* are served (Bun.listen path)", () => {
  test("TLS: the ClientHello waits unread until spawnTls, then the handshake and the request are served", { timeout: 20_000 }, async () => {
    const answer = await askBeforeServe({ TAKO_OPENING: "tls" }, (port) => tlsAsk(port, "/conn"));
    assert.equal((bodyOf(answer) as { tls: { alpnProtocol: string } }).tls.alpnProtocol, "http/1.1");
  });

  test("TLS with an SNI resolver: chosen by name for a ClientHello sent before spawnTls", { timeout: 20_000 }, async () => {
    const answer = await askBeforeServe({ TAKO_OPENING: "tls-sni" }, (port) => tlsAsk(port, "/conn", { servername: "a.test" }));
    assert.equal((bodyOf(answer) as { tls: { serverName: string } }).tls.serverName, "a.test");
  });

  test("PROXY before TLS: a header and ClientHello sent before spawnTls are read by it", { timeout: 20_000 }, async () => {
    const answer = await askBeforeServe({ TAKO_OPENING: "proxy-tls" }, (port) => tlsAfterHeader(port, v1("198.51.100.78", "192.0.2.1", 6, 443), "/conn"));
    assert.equal((bodyOf(answer) as { remoteAddress: string }).remoteAddress, "198.51.100.78");
  });

  test("PROXY: a header and request sent before spawnHttp are read by it", { timeout: 20_000 }, async () => {
    const answer = await askBeforeServe({ TAKO_OPENING: "proxy" }, async (port) => {
      const s = netConnect({ host: "127.0.0.1", port });
      let text = "";
      s.on("data", (d: Buffer) => (text += d.toString("latin1")));
      s.on("error", () => {});
      s.write(Buffer.concat([v1("198.51.100.77", "192.0.2.1", 5, 80), Buffer.from("GET /conn HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")]));
      await new Promise((r) => s.once("close", r));
      return text;
    });
    assert.equal((bodyOf(answer) as { remoteAddress: string }).remoteAddress, "198.51.100.77");
  });
});
