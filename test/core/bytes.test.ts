// Slab pieces (src/core/bytes.ts) and where they may go: a body decoded at once is copied into
// pieces, a body handed to the handler as bytes (req.bytes()) never is.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { BodyPipe } from "../../src/adapters/wire/body-pipe.ts";
import { slabBytes, slabCopy, useByteSlabs } from "../../src/core/bytes.ts";

const owner = { pauseReading() {}, resumeReading() {}, bodyWanted() {} };
const own = (b: Uint8Array): boolean => b.byteOffset === 0 && b.buffer.byteLength === b.length;

describe("byte slabs", () => {
  after(() => useByteSlabs(false));

  test("off (the default): every array is its own", () => {
    useByteSlabs(false);
    assert.ok(own(slabBytes(100)));
    const src = Uint8Array.of(1, 2, 3);
    const copy = slabCopy(src);
    assert.ok(own(copy));
    assert.deepEqual([...copy], [1, 2, 3]);
  });

  test("on: small pieces share slabs and never overlap; large ones are their own", () => {
    useByteSlabs(true);
    const pieces: [Uint8Array, number][] = [];
    for (let i = 0; i < 2000; i++) {
      const n = 1 + (i % 300);
      const piece = i % 2 === 0 ? slabBytes(n) : slabCopy(new Uint8Array(n));
      assert.equal(piece.length, n);
      assert.ok(
        piece.every((b) => b === 0),
        "a piece starts zeroed",
      );
      piece.fill(i & 0xff);
      pieces.push([piece, i & 0xff]);
    }
    for (const [piece, v] of pieces)
      assert.ok(
        piece.every((b) => b === v),
        "no piece was overwritten by a later one",
      );
    assert.ok(
      pieces.some(([p]) => !own(p)),
      "pieces are views of a slab",
    );
    assert.ok(own(slabBytes(5000)));
    assert.ok(own(slabCopy(new Uint8Array(5000))));
  });

  test("a body pipe copies into pieces only for a read that does not keep the bytes", async () => {
    useByteSlabs(true);
    const body = new TextEncoder().encode('{"a":1}');
    const read = async (keeps: boolean): Promise<Uint8Array> => {
      const pipe = new BodyPipe(owner);
      const got = pipe.collect(1024, null, (bytes) => bytes, keeps);
      // The parser's view of a read buffer the runtime reuses: overwritten after push.
      const buf = new Uint8Array(64);
      buf.set(body, 10);
      pipe.push(buf.subarray(10, 10 + body.length));
      buf.fill(0);
      pipe.end();
      return got;
    };
    const kept = await read(true);
    assert.ok(own(kept), "bytes() gets an array of its own");
    assert.deepEqual(kept, body);
    const passing = await read(false);
    assert.ok(!own(passing), "a decoded body is read from a slab piece");
    assert.deepEqual(new Uint8Array(passing), body);
  });
});
