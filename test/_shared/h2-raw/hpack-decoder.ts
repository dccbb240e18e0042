// HPACK decoding (RFC 7541): the static table and a decoder with its dynamic table and counters.
import { HpackError } from "./hpack-error.ts";
import { huffmanDecode } from "./huffman.ts";

/** The static table (RFC 7541 Appendix A); entry i is index i + 1. */
export const HPACK_STATIC_TABLE: readonly (readonly [string, string])[] = Object.freeze([
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
] as const);

/** Counts of the representations an {@link HpackDecoder} has seen (to assert what a peer's encoder does). */
export interface HpackStats {
  /** Indexed fields referring to the static table. */
  indexedStatic: number;
  /** Indexed fields referring to the dynamic table. */
  indexedDynamic: number;
  /** Literals with incremental indexing (added to the dynamic table). */
  incremental: number;
  withoutIndexing: number;
  neverIndexed: number;
  sizeUpdates: number;
  /** Huffman-coded string literals (names and values). */
  huffmanStrings: number;
  rawStrings: number;
  /** Dynamic table entries evicted. */
  evictions: number;
}

/**
 * An HPACK decoder with its dynamic table: one per connection and direction, fed every header
 * block in the order received. Throws {@link HpackError} on malformed input.
 */
export class HpackDecoder {
  /** Newest entry first (dynamic index 62 is entry 0). */
  #table: [string, string][] = [];
  #size = 0;
  #maxSize: number;
  #limit: number;
  /** Representation counters, cumulative over all decoded blocks. */
  readonly stats: HpackStats = {
    indexedStatic: 0,
    indexedDynamic: 0,
    incremental: 0,
    withoutIndexing: 0,
    neverIndexed: 0,
    sizeUpdates: 0,
    huffmanStrings: 0,
    rawStrings: 0,
    evictions: 0,
  };

  /** `settingsTableSize` is the SETTINGS_HEADER_TABLE_SIZE this endpoint advertised (default 4096). */
  constructor(settingsTableSize = 4096) {
    this.#maxSize = settingsTableSize;
    this.#limit = settingsTableSize;
  }

  /** Current size of the dynamic table in octets (RFC 7541 §4.1: name + value + 32 per entry). */
  get tableSize(): number {
    return this.#size;
  }

  /** Current maximum size of the dynamic table (changed by size updates). */
  get maxTableSize(): number {
    return this.#maxSize;
  }

  /** A copy of the dynamic table, newest entry first. */
  get dynamicTable(): [string, string][] {
    return this.#table.map(([n, v]): [string, string] => [n, v]);
  }

  /**
   * Changes the upper bound for size updates, for when a test advertises a different
   * SETTINGS_HEADER_TABLE_SIZE. (The peer must then send a size update; that is not enforced.)
   */
  setSettingsTableSize(size: number): void {
    this.#limit = size;
  }

  /** Decodes one complete header block (HEADERS/PUSH_PROMISE plus CONTINUATION fragments). */
  decode(block: Buffer): [string, string][] {
    const out: [string, string][] = [];
    let pos = 0;

    const integer = (prefixBits: number): number => {
      const first = block[pos++];
      if (first === undefined) throw new HpackError("header block ends inside an integer");
      const max = (1 << prefixBits) - 1;
      let value = first & max;
      if (value < max) return value;
      let factor = 1;
      for (let octets = 1; ; octets++) {
        const b = block[pos++];
        if (b === undefined) throw new HpackError("header block ends inside an integer");
        if (octets > 5) throw new HpackError("HPACK integer longer than 5 continuation octets");
        value += (b & 0x7f) * factor;
        factor *= 128;
        if (value > 0xffffffff) throw new HpackError("HPACK integer exceeds 2^32-1");
        if ((b & 0x80) === 0) return value;
      }
    };

    const string = (): string => {
      const first = block[pos];
      if (first === undefined) throw new HpackError("header block ends before a string literal");
      const huffman = (first & 0x80) !== 0;
      const len = integer(7);
      if (pos + len > block.length) throw new HpackError(`string literal of ${len} octets overruns the header block`);
      const raw = block.subarray(pos, pos + len);
      pos += len;
      if (huffman) this.stats.huffmanStrings++;
      else this.stats.rawStrings++;
      return (huffman ? huffmanDecode(raw) : raw).toString("latin1");
    };

    const lookup = (index: number): [string, string] => {
      if (index === 0) throw new HpackError("index 0 is invalid");
      const s = HPACK_STATIC_TABLE[index - 1];
      if (s) return [s[0], s[1]];
      const d = this.#table[index - HPACK_STATIC_TABLE.length - 1];
      if (!d) throw new HpackError(`index ${index} is beyond the tables (dynamic has ${this.#table.length})`);
      return [d[0], d[1]];
    };

    while (pos < block.length) {
      const b = block[pos] ?? 0;
      if (b & 0x80) {
        const index = integer(7);
        if (index > HPACK_STATIC_TABLE.length) this.stats.indexedDynamic++;
        else this.stats.indexedStatic++;
        out.push(lookup(index));
      } else if ((b & 0xc0) === 0x40) {
        const index = integer(6);
        const name = index === 0 ? string() : lookup(index)[0];
        const value = string();
        this.stats.incremental++;
        this.#add(name, value);
        out.push([name, value]);
      } else if ((b & 0xe0) === 0x20) {
        if (out.length > 0) throw new HpackError("dynamic table size update after a header field");
        const size = integer(5);
        if (size > this.#limit) throw new HpackError(`table size update to ${size} exceeds the advertised ${this.#limit}`);
        this.stats.sizeUpdates++;
        this.#maxSize = size;
        this.#evict(0);
      } else {
        const never = (b & 0xf0) === 0x10;
        const index = integer(4);
        const name = index === 0 ? string() : lookup(index)[0];
        const value = string();
        if (never) this.stats.neverIndexed++;
        else this.stats.withoutIndexing++;
        out.push([name, value]);
      }
    }
    return out;
  }

  #add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.#evict(size);
    // An entry larger than the whole table empties it and is not added (RFC 7541 §4.4).
    if (size > this.#maxSize) return;
    this.#table.unshift([name, value]);
    this.#size += size;
  }

  /** Evicts oldest entries until `incoming` more octets fit. */
  #evict(incoming: number): void {
    while (this.#table.length > 0 && this.#size + incoming > this.#maxSize) {
      const old = this.#table.pop();
      if (old) this.#size -= old[0].length + old[1].length + 32;
      this.stats.evictions++;
    }
  }
}
