// Bun's fetch over HTTP/3 (`protocol: "http3"`), run as a child process by _client.ts. argv[2]
// is a JSON plan: { url, method?, bodySize? } fetches once; { url, stream: true, release } reads
// the first chunk of a streamed body, then POSTs `release` and reads the rest. Prints one JSON
// line.
const plan = JSON.parse(process.argv[2]!) as { url: string; method?: string; bodySize?: number; stream?: boolean; release?: string };
const h3 = { protocol: "http3", tls: { rejectUnauthorized: false } } as const;

async function once(): Promise<unknown> {
  const body = plan.bodySize === undefined ? undefined : new Uint8Array(plan.bodySize).map((_, i) => i % 251);
  const res = await fetch(plan.url, { ...h3, method: plan.method ?? "GET", body } as RequestInit);
  const bytes = new Uint8Array(await res.arrayBuffer());
  let sameAsSent: boolean | null = null;
  if (body !== undefined) sameAsSent = bytes.length === body.length && bytes.every((b, i) => b === body[i]);
  return {
    status: res.status,
    headers: Object.fromEntries(res.headers),
    text: bytes.length <= 4096 ? new TextDecoder().decode(bytes) : `<${bytes.length} bytes>`,
    length: bytes.length,
    sameAsSent,
  };
}

async function streamed(): Promise<unknown> {
  const res = await fetch(plan.url, h3 as RequestInit);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const first = await reader.read();
  const firstText = decoder.decode(first.value);
  const released = await (await fetch(plan.release!, { ...h3, method: "POST" } as RequestInit)).json();
  let rest = "";
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    rest += decoder.decode(next.value);
  }
  return { status: res.status, first: firstText, released, rest };
}

try {
  console.log(JSON.stringify(plan.stream === true ? await streamed() : await once()));
} catch (error) {
  console.log(JSON.stringify({ error: String(error) }));
}
