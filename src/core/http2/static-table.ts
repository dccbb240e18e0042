/** The HPACK static table (RFC 7541 Appendix A) and the encoder's lookups into it. */

// biome-ignore format: one entry per line reads like the RFC's table
const ENTRIES: readonly (readonly [string, string])[] = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""], ["access-control-allow-origin", ""],
  ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""], ["content-disposition", ""],
  ["content-encoding", ""], ["content-language", ""], ["content-length", ""], ["content-location", ""], ["content-range", ""],
  ["content-type", ""], ["cookie", ""], ["date", ""], ["etag", ""], ["expect", ""],
  ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""],
  ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""],
  ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""], ["proxy-authorization", ""], ["range", ""],
  ["referer", ""], ["refresh", ""], ["retry-after", ""], ["server", ""], ["set-cookie", ""],
  ["strict-transport-security", ""], ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""],
  ["www-authenticate", ""],
];

/** Number of static entries; dynamic indices start after it. */
export const STATIC_COUNT = 61;

/** Names of static entries 1–61 (index 0 unused). */
export const STATIC_NAMES: readonly string[] = ["", ...ENTRIES.map((e) => e[0])];
/** Values of static entries 1–61 (index 0 unused). */
export const STATIC_VALUES: readonly string[] = ["", ...ENTRIES.map((e) => e[1])];

/** Lowest static index of each name. */
export const STATIC_NAME_INDEX: ReadonlyMap<string, number> = new Map(ENTRIES.map((e, i) => [e[0], i + 1] as const).reverse());

/** For the names that have static entries with a value: value → static index. */
export const STATIC_EXACT: ReadonlyMap<string, ReadonlyMap<string, number>> = (() => {
  const byName = new Map<string, Map<string, number>>();
  ENTRIES.forEach(([name, value], i) => {
    if (value === "") return;
    let values = byName.get(name);
    if (values === undefined) byName.set(name, (values = new Map()));
    values.set(value, i + 1);
  });
  return byName;
})();

/** Static index of `:status` values that have an entry of their own. */
export const STATUS_INDEX: ReadonlyMap<number, number> = new Map([
  [200, 8],
  [204, 9],
  [206, 10],
  [304, 11],
  [400, 12],
  [404, 13],
  [500, 14],
]);
