// ProxyHeaderReader: a header collected from chunks as a socket delivers them (one byte at a time,
// with the application's first bytes in the last chunk), required and optional modes, a reused
// read buffer, and the errors as early as the bytes show them.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ProxyHeaderReader, ProxyProtocolError } from "../../../src/core/proxy-protocol/index.ts";
import { concat, enc } from "./_helpers.ts";

const V1 = enc("PROXY TCP4 198.51.100.1 192.0.2.1 4000 80\r\n");
const GET = enc("GET / HTTP/1.1\r\nHost: t\r\n\r\n");

describe("ProxyHeaderReader", () => {
  test("one chunk: the header and the bytes after it, without a copy", () => {
    const chunk = concat(V1, GET);
    const read = new ProxyHeaderReader("required", "reject").push(chunk);
    assert.equal(read?.header?.sourceAddress, "198.51.100.1");
    assert.deepEqual([...read!.rest], [...GET]);
    assert.equal(read!.rest.buffer, chunk.buffer);
  });

  test("byte by byte through one reused buffer (as a runtime reuses its read buffer)", () => {
    const all = concat(V1, GET.subarray(0, 3));
    const reader = new ProxyHeaderReader("required", "reject");
    const scratch = new Uint8Array(1);
    let read = null;
    for (let i = 0; i < all.length && read === null; i++) {
      scratch[0] = all[i]!;
      read = reader.push(scratch);
      if (i < V1.length - 1) assert.equal(read, null, `complete after ${i + 1} bytes`);
    }
    assert.equal(read?.header?.sourcePort, 4000);
    assert.equal(read?.rest.length, 0);
  });

  test("required mode: bytes that cannot start a header throw at once", () => {
    assert.throws(() => new ProxyHeaderReader("required", "reject").push(enc("GE")), ProxyProtocolError);
  });

  test("optional mode: no header is null with every byte left; a header is read; a broken one throws", () => {
    const plain = new ProxyHeaderReader("optional", "reject").push(GET);
    assert.deepEqual([plain?.header, plain?.rest.length], [null, GET.length]);
    const tls = new ProxyHeaderReader("optional", "reject").push(Uint8Array.of(0x16, 0x03, 0x01));
    assert.deepEqual([tls?.header, tls?.rest.length], [null, 3]);
    const reader = new ProxyHeaderReader("optional", "reject");
    assert.equal(reader.push(enc("PRO")), null);
    assert.equal(reader.push(concat(V1.subarray(3), GET))?.header?.destinationPort, 80);
    assert.throws(() => new ProxyHeaderReader("optional", "reject").push(enc("PROXY TCP4 999.1.1.1 1.1.1.1 1 2\r\n")), ProxyProtocolError);
  });
});
