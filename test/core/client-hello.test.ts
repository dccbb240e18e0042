// The ClientHello reader (SNI before the handshake): hellos captured from real clients (node:tls,
// openssl s_client, curl) over a loopback socket, the same hellos re-split into records and
// truncated, hand-built edge cases, and property checks with fast-check.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { CLIENT_HELLO_MAX, type ClientHelloRead, readClientHello } from "../../src/core/client-hello.ts";
import { concat } from "./proxy-protocol/_helpers.ts";

/** Listens on 127.0.0.1; `capture(open)` runs a client via `open(port)` and resolves to the first bytes it sent (read for 300 ms). */
async function capturer(): Promise<{ capture(open: (port: number) => () => void): Promise<Uint8Array>; close(): Promise<void> }> {
  let waiting: ((bytes: Uint8Array) => void) | null = null;
  const server = createServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", () => {});
    setTimeout(() => {
      socket.destroy();
      waiting?.(new Uint8Array(Buffer.concat(chunks)));
    }, 300);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    async capture(open) {
      const got = new Promise<Uint8Array>((resolve) => (waiting = resolve));
      const stop = open(port);
      const bytes = await got;
      stop();
      return bytes;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function nodeClient(options: { servername?: string; ALPNProtocols?: string[] }): (port: number) => () => void {
  return (port) => {
    const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...options });
    s.on("error", () => {});
    return () => s.destroy();
  };
}

function tool(cmd: string, args: (port: number) => string[]): (port: number) => () => void {
  return (port) => {
    const p = spawn(cmd, args(port), { stdio: ["pipe", "ignore", "ignore"] });
    p.on("error", () => {});
    return () => p.kill();
  };
}

/** The handshake message inside a captured first flight (the fragments of its records joined). */
function handshakeOf(flight: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  let need = -1;
  let have = 0;
  while (need === -1 || have < need) {
    const length = (flight[at + 3]! << 8) | flight[at + 4]!;
    const part = flight.subarray(at + 5, at + 5 + length);
    parts.push(part);
    have += part.length;
    if (need === -1) need = 4 + ((part[1]! << 16) | (part[2]! << 8) | part[3]!);
    at += 5 + length;
  }
  return concat(...parts).subarray(0, need);
}

/** `handshake` as handshake records of at most `size` bytes of fragment each. */
function records(handshake: Uint8Array, size: number): Uint8Array {
  const out: Uint8Array[] = [];
  for (let at = 0; at < handshake.length; at += size) {
    const part = handshake.subarray(at, Math.min(handshake.length, at + size));
    out.push(Uint8Array.of(0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff), part);
  }
  return concat(...out);
}

const u16 = (n: number): number[] => [n >> 8, n & 0xff];
const u24 = (n: number): number[] => [n >> 16, (n >> 8) & 0xff, n & 0xff];

/** A hand-built ClientHello handshake message with `extensions` (each `[type, data]`); `null`: no extensions block. */
function hello(extensions: readonly (readonly [number, readonly number[]])[] | null): Uint8Array {
  const ext = extensions === null ? [] : extensions.flatMap(([type, data]) => [...u16(type), ...u16(data.length), ...data]);
  const body = [0x03, 0x03, ...new Array<number>(32).fill(7), 0, ...u16(2), 0x13, 0x01, 1, 0, ...(extensions === null ? [] : [...u16(ext.length), ...ext])];
  return Uint8Array.of(0x01, ...u24(body.length), ...body);
}

/** A server_name extension's data with these host names (raw bytes). */
function sni(...names: string[]): number[] {
  const list = names.flatMap((n) => {
    const b = [...Buffer.from(n, "latin1")];
    return [0, ...u16(b.length), ...b];
  });
  return [...u16(list.length), ...list];
}

/** The answer, checked to be a well-formed one and to leave the input unchanged. */
function read(bytes: Uint8Array): ClientHelloRead {
  const copy = bytes.slice();
  const r = readClientHello(bytes);
  assert.deepEqual(bytes, copy, "the input was changed");
  assert.ok(r.kind === "more" || r.kind === "hello" || r.kind === "bad", JSON.stringify(r));
  if (r.kind === "bad") assert.equal(typeof r.reason, "string");
  return r;
}

describe("readClientHello on real clients' first flights", () => {
  let cap: Awaited<ReturnType<typeof capturer>>;
  const flights = new Map<string, Uint8Array>();
  before(async () => {
    cap = await capturer();
  });
  after(async () => {
    await cap.close();
  });

  const cases: readonly (readonly [string, () => (port: number) => () => void, string | null])[] = [
    ["node:tls with servername and ALPN", () => nodeClient({ servername: "api.example.com", ALPNProtocols: ["h2", "http/1.1"] }), "api.example.com"],
    ["node:tls to an IP address (no SNI)", () => nodeClient({}), null],
    [
      "openssl s_client -servername, TLS 1.2",
      () => tool("openssl", (p) => ["s_client", "-connect", `127.0.0.1:${p}`, "-servername", "v12.example.org", "-tls1_2"]),
      "v12.example.org",
    ],
    ["openssl s_client -noservername", () => tool("openssl", (p) => ["s_client", "-connect", `127.0.0.1:${p}`, "-noservername"]), null],
    ["curl https://localhost", () => tool("curl", (p) => ["-sk", "--max-time", "1", `https://localhost:${p}/`]), "localhost"],
  ];
  for (const [name, client, expected] of cases) {
    test(`${name}: ${expected === null ? "no server name" : expected}`, async () => {
      const flight = await cap.capture(client());
      assert.ok(flight.length > 40, `captured ${flight.length} bytes`);
      flights.set(name, flight);
      assert.deepEqual(read(flight), { kind: "hello", serverName: expected });
      // Every shorter prefix asks for more; the same hello in records of 1, 7 and 100 bytes reads the same.
      for (let n = 0; n < flight.length; n++) assert.equal(read(flight.subarray(0, n)).kind, "more", `prefix of ${n}`);
      const handshake = handshakeOf(flight);
      for (const size of [1, 7, 100]) {
        const split = records(handshake, size);
        assert.deepEqual(read(split), { kind: "hello", serverName: expected }, `records of ${size}`);
        assert.equal(read(split.subarray(0, split.length - 1)).kind, "more");
      }
    });
  }

  test("bytes after the first flight (the client's next record) do not change the answer", () => {
    const flight = flights.get("node:tls with servername and ALPN");
    assert.ok(flight !== undefined, "the capture above ran");
    assert.deepEqual(read(concat(flight, Uint8Array.of(0x14, 0x03, 0x03, 0, 1, 1))), { kind: "hello", serverName: "api.example.com" });
  });
});

describe("readClientHello edge cases", () => {
  test("not TLS: an HTTP request, a PROXY header, a TLS alert record — refused from the first byte", () => {
    for (const text of ["GET / HTTP/1.1\r\n", "G", "PROXY TCP4 ", "\r\n\r\n\0\r\nQUIT\n"]) assert.equal(read(Buffer.from(text)).kind, "bad", text);
    assert.equal(read(Uint8Array.of(0x15, 0x03, 0x03, 0, 2, 2, 40)).kind, "bad");
  });

  test("nothing yet, or a record header only: more", () => {
    assert.equal(read(new Uint8Array(0)).kind, "more");
    assert.equal(read(Uint8Array.of(0x16, 0x03)).kind, "more");
    assert.equal(read(Uint8Array.of(0x16, 0x03, 0x01, 0x01, 0x00)).kind, "more");
  });

  test("hand-built hellos: no extensions, other extensions only, a name among other extensions", () => {
    assert.deepEqual(read(records(hello(null), 16384)), { kind: "hello", serverName: null });
    assert.deepEqual(read(records(hello([[0x10, [0, 3, 2, 0x68, 0x32]]]), 16384)), { kind: "hello", serverName: null });
    const h = hello([
      [0x2b, [2, 3, 4]],
      [0, sni("Shop.Example.COM")],
      [0x10, [0, 3, 2, 0x68, 0x32]],
    ]);
    assert.deepEqual(read(records(h, 16384)), { kind: "hello", serverName: "Shop.Example.COM" });
  });

  test("refused: bad names, two names, two server_name extensions, lengths that do not add up", () => {
    const refused: readonly (readonly [string, Uint8Array])[] = [
      ["trailing dot", hello([[0, sni("example.com.")]])],
      ["a slash", hello([[0, sni("a/b")]])],
      ["a NUL", hello([[0, sni("a\0b")]])],
      ["non-ASCII", hello([[0, sni("caf\u00e9.test")]])],
      ["empty name", hello([[0, sni("")]])],
      ["256 bytes", hello([[0, sni("a".repeat(256))]])],
      ["two host names", hello([[0, sni("a.test", "b.test")]])],
      [
        "two extensions",
        hello([
          [0, sni("a.test")],
          [0, sni("a.test")],
        ]),
      ],
      ["empty server name list", hello([[0, [0, 0]]])],
      ["list length past the extension", hello([[0, [0, 9, 0, 0, 1, 0x61]]])],
      ["extension length past the block", hello([[0x10, [0, 3, 2, 0x68, 0x32]]]).map((b, i, a) => (i === a.length - 6 ? 0x40 : b))],
    ];
    for (const [why, h] of refused) assert.equal(read(records(h, 16384)).kind, "bad", why);
    const ok = hello([[0, sni("a".repeat(255))]]);
    assert.deepEqual(read(records(ok, 16384)), { kind: "hello", serverName: "a".repeat(255) });
  });

  test("refused: another handshake message first, another record type between the fragments, an empty or oversized record", () => {
    const h = hello([[0, sni("a.test")]]);
    const serverHello = Uint8Array.from(h, (b, i) => (i === 0 ? 0x02 : b));
    assert.equal(read(records(serverHello, 16384)).kind, "bad");
    const split = records(h, 10);
    const interleaved = concat(split.subarray(0, 15), Uint8Array.of(0x17, 0x03, 0x03, 0, 1, 0), split.subarray(15));
    assert.equal(read(interleaved).kind, "bad");
    assert.equal(read(Uint8Array.of(0x16, 0x03, 0x01, 0, 0)).kind, "bad");
    assert.equal(read(Uint8Array.of(0x16, 0x03, 0x01, 0x40, 0x01)).kind, "bad");
    assert.equal(read(Uint8Array.of(0x16, 0x02, 0x00, 0, 4)).kind, "bad");
  });

  test(`a hello longer than ${CLIENT_HELLO_MAX} bytes is refused from its header, before it is read`, () => {
    const header = Uint8Array.of(0x16, 0x03, 0x01, 0x40, 0x00, 0x01, ...u24(CLIENT_HELLO_MAX + 1));
    assert.equal(read(header).kind, "bad");
    const padded = hello([[0x15, new Array<number>(CLIENT_HELLO_MAX - 100).fill(0)]]);
    assert.ok(padded.length - 4 <= CLIENT_HELLO_MAX);
    assert.deepEqual(read(records(padded, 16384)), { kind: "hello", serverName: null });
  });

  test("handshake bytes after the hello in its own record are refused", () => {
    const h = hello([[0, sni("a.test")]]);
    assert.equal(read(records(concat(h, Uint8Array.of(0x0b, 0, 0, 0)), 16384)).kind, "bad");
  });
});

describe("readClientHello properties", () => {
  const name = fc
    .array(fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."), { minLength: 1, maxLength: 255 })
    .map((cs) => cs.join(""))
    .filter((s) => !s.endsWith("."));

  test("any bytes: an answer, never a throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        read(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  test("any bytes after a handshake record header: an answer, never a throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        read(concat(Uint8Array.of(0x16, 0x03, 0x01, bytes.length >> 8, bytes.length & 0xff, 0x01, ...u24(Math.max(0, bytes.length - 4))), bytes.subarray(4)));
      }),
      { numRuns: 3000 },
    );
  });

  test("a valid hello with any host name and any record size round-trips; any one byte changed never throws", () => {
    fc.assert(
      fc.property(name, fc.integer({ min: 1, max: 400 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (host, size, where, value) => {
        const h = hello([
          [0x0a, [0, 2, 0, 0x1d]],
          [0, sni(host)],
        ]);
        const flight = records(h, size);
        assert.deepEqual(read(flight), { kind: "hello", serverName: host });
        const mutated = flight.slice();
        mutated[where % mutated.length] = value;
        read(mutated);
      }),
      { numRuns: 2000 },
    );
  });
});
