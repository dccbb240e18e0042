// RFC 7541 Appendix C: the header lists, dynamic tables and encoded blocks of its examples,
// shared by every HPACK decoder the tests check (tako's codec, src/core/http2/, and the raw test
// client's own, test/_shared/h2-raw/).

/** A decoded field, or a dynamic-table entry (newest first). */
export type Field = [string, string];

/** C.3/C.4: three requests on one connection (default table size 4096). */
export const REQUESTS: readonly (readonly Field[])[] = (() => {
  const req1: Field[] = [
    [":method", "GET"],
    [":scheme", "http"],
    [":path", "/"],
    [":authority", "www.example.com"],
  ];
  const req2: Field[] = [...req1, ["cache-control", "no-cache"]];
  const req3: Field[] = [
    [":method", "GET"],
    [":scheme", "https"],
    [":path", "/index.html"],
    [":authority", "www.example.com"],
    ["custom-key", "custom-value"],
  ];
  return [req1, req2, req3];
})();

/** The dynamic table after each of {@link REQUESTS}. */
export const REQUEST_TABLES: readonly (readonly Field[])[] = [
  [[":authority", "www.example.com"]],
  [
    ["cache-control", "no-cache"],
    [":authority", "www.example.com"],
  ],
  [
    ["custom-key", "custom-value"],
    ["cache-control", "no-cache"],
    [":authority", "www.example.com"],
  ],
];

/** The dynamic table size after each of {@link REQUESTS}. */
export const REQUEST_TABLE_SIZES: readonly number[] = [57, 110, 164];

/** C.3: {@link REQUESTS} encoded without Huffman. */
export const C3_BLOCKS: readonly string[] = [
  "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
  "8286 84be 5808 6e6f 2d63 6163 6865",
  "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
];

/** C.4: {@link REQUESTS} encoded with Huffman. */
export const C4_BLOCKS: readonly string[] = [
  "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
  "8286 84be 5886 a8eb 1064 9cbf",
  "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
];

const COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

/** C.5/C.6: three responses on one connection with a 256-octet table (evictions). */
export const RESPONSES: readonly (readonly Field[])[] = (() => {
  const res1: Field[] = [
    [":status", "302"],
    ["cache-control", "private"],
    ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
    ["location", "https://www.example.com"],
  ];
  const res2: Field[] = [[":status", "307"], ...res1.slice(1)];
  const res3: Field[] = [
    [":status", "200"],
    ["cache-control", "private"],
    ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
    ["location", "https://www.example.com"],
    ["content-encoding", "gzip"],
    ["set-cookie", COOKIE],
  ];
  return [res1, res2, res3];
})();

/** The dynamic table after each of {@link RESPONSES}. */
export const RESPONSE_TABLES: readonly (readonly Field[])[] = [
  [
    ["location", "https://www.example.com"],
    ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
    ["cache-control", "private"],
    [":status", "302"],
  ],
  [
    [":status", "307"],
    ["location", "https://www.example.com"],
    ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
    ["cache-control", "private"],
  ],
  [
    ["set-cookie", COOKIE],
    ["content-encoding", "gzip"],
    ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
  ],
];

/** The dynamic table size after each of {@link RESPONSES}. */
export const RESPONSE_TABLE_SIZES: readonly number[] = [222, 222, 215];

/** The table size of the response examples. */
export const RESPONSE_TABLE_LIMIT = 256;

/** C.5: {@link RESPONSES} encoded without Huffman. */
export const C5_BLOCKS: readonly string[] = [
  "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
  "4803 3330 37c1 c0bf",
  "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
];

/** C.6: {@link RESPONSES} encoded with Huffman. */
export const C6_BLOCKS: readonly string[] = [
  "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
  "4883 640e ffc1 c0bf",
  "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
];
