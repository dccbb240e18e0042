// The default connection cap, derived from the descriptor limit.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { connectionCap, descriptorCap, descriptorLimit } from "../../src/adapters/shared/descriptors.ts";
import { DEFAULT_SERVER_CONFIG } from "../../src/index.ts";

const limits = (soft: string): string =>
  `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             95366                95366                processes \nMax open files            ${soft}                 524288               files     \n`;

describe("descriptor-derived connection cap", () => {
  test("the soft limit is read from /proc/self/limits; unreadable or unlimited gives null", () => {
    assert.equal(
      descriptorLimit(() => limits("1024")),
      1024,
    );
    assert.equal(
      descriptorLimit(() => limits("unlimited")),
      null,
    );
    assert.equal(
      descriptorLimit(() => {
        throw new Error("ENOENT");
      }),
      null,
    );
    assert.equal(
      descriptorLimit(() => "no such line"),
      null,
    );
  });

  test("an eighth of the limit is kept for the rest of the process, 64 to 1,024 descriptors", () => {
    assert.equal(descriptorCap(128), 64);
    assert.equal(descriptorCap(1024), 896);
    assert.equal(descriptorCap(65_536), 64_512);
    assert.equal(descriptorCap(1_048_576), 1_047_552);
    assert.equal(descriptorCap(null), null);
    assert.equal(descriptorCap(10), 1);
  });

  test("this process: the cap is below its real descriptor limit; an explicit maxConnections wins", () => {
    const limit = descriptorLimit();
    assert.ok(limit !== null, "/proc/self/limits is readable on Linux");
    const cap = connectionCap(DEFAULT_SERVER_CONFIG);
    assert.ok(cap !== null && cap < limit && cap >= limit - 1024, `cap ${cap} for limit ${limit}`);
    assert.equal(connectionCap({ ...DEFAULT_SERVER_CONFIG, maxConnections: 7 }), 7);
  });

  test("connections holding two descriptors each: the derived cap is halved; an explicit maxConnections is kept", () => {
    const cap = connectionCap(DEFAULT_SERVER_CONFIG)!;
    assert.equal(connectionCap(DEFAULT_SERVER_CONFIG, 2), Math.floor(cap / 2));
    assert.equal(connectionCap({ ...DEFAULT_SERVER_CONFIG, maxConnections: 7 }, 2), 7);
  });
});
