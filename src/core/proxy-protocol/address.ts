// IPv4 and IPv6 addresses: the strict text forms v1 carries (whole or as a prefix still
// arriving), and the text the parser reports for the binary forms v2 carries.

/** Whether `s` can start a dotted quad (no leading zeros, each part 0..255). */
export function ipv4PrefixOk(s: string): boolean {
  if (s.length > 15 || !/^[0-9.]*$/.test(s)) return false;
  const parts = s.split(".");
  if (parts.length > 4) return false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === "") {
      if (i !== parts.length - 1) return false;
      continue;
    }
    if (part.length > 3 || (part.length > 1 && part.startsWith("0")) || Number(part) > 255) return false;
  }
  return true;
}

/** A strict dotted quad as 4 bytes, or null. */
export function parseIpv4Text(s: string): Uint8Array | null {
  if (!ipv4PrefixOk(s)) return null;
  const parts = s.split(".");
  if (parts.length !== 4 || parts.some((p) => p === "")) return null;
  return Uint8Array.from(parts, Number);
}

/**
 * Whether `s` can start an IPv6 address in text form: hex groups of 1 to 4 digits, at most one
 * `::`, at most 8 groups, optionally ending in a dotted quad that counts as two groups. Only
 * necessary conditions, so a prefix of a valid address always passes.
 */
export function ipv6PrefixOk(s: string): boolean {
  if (s.length > 45 || !/^[0-9A-Fa-f:.]*$/.test(s)) return false;
  if (s.includes(":::")) return false;
  const double = s.indexOf("::");
  if (double !== -1 && s.indexOf("::", double + 1) !== -1) return false;
  if (s.length >= 2 && s.startsWith(":") && double !== 0) return false;
  const parts = s.split(":");
  let groups = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.includes(".")) {
      if (i !== parts.length - 1 || !ipv4PrefixOk(part)) return false;
      groups += 2;
    } else {
      if (part.length > 4) return false;
      if (part !== "") groups += 1;
    }
  }
  return groups <= (double === -1 ? 8 : 7);
}

/** An IPv6 address in text form (RFC 4291 section 2.2) as 16 bytes, or null. */
export function parseIpv6Text(s: string): Uint8Array | null {
  if (s.length < 2 || !ipv6PrefixOk(s)) return null;
  const double = s.indexOf("::");
  const head = double === -1 ? s : s.slice(0, double);
  const tail = double === -1 ? "" : s.slice(double + 2);
  const headWords = ipv6Words(head, double === -1 || tail === "");
  const tailWords = ipv6Words(tail, true);
  if (headWords === null || tailWords === null) return null;
  const count = headWords.length + tailWords.length;
  if (double === -1 ? count !== 8 : count > 7) return null;
  const words = [...headWords, ...new Array<number>(8 - count).fill(0), ...tailWords];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** The 16-bit words of colon-separated groups; `last`: these groups end the address (a dotted quad may close them). */
function ipv6Words(s: string, last: boolean): number[] | null {
  if (s === "") return [];
  const parts = s.split(":");
  const words: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.includes(".")) {
      if (!last || i !== parts.length - 1) return null;
      const v4 = parseIpv4Text(part);
      if (v4 === null) return null;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(part)) return null;
      words.push(parseInt(part, 16));
    }
  }
  return words;
}

export function formatIpv4(b: Uint8Array, at: number): string {
  return `${b[at]!}.${b[at + 1]!}.${b[at + 2]!}.${b[at + 3]!}`;
}

/**
 * RFC 5952 text: lower-case hex without leading zeros, the longest run of two or more zero
 * groups (the first on a tie) as `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d` (the form
 * socket APIs report for them).
 */
export function formatIpv6(b: Uint8Array, at: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${formatIpv4(b, at + 12)}`;
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(":");
  if (bestLength < 2) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLength))}`;
}
