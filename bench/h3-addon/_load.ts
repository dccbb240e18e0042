// The load client (Bun, fetch over HTTP/3): `concurrency` loops each sending GET / one after
// another for `seconds`, after a warm-up of `warmup` seconds. Prints one JSON line:
// { requests, errors, rps }. argv: url seconds concurrency warmup
const [url, seconds = "5", concurrency = "32", warmup = "1"] = process.argv.slice(2) as [string, string?, string?, string?];
const init = { protocol: "http3", tls: { rejectUnauthorized: false } } as RequestInit;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let counting = false;
let requests = 0;
let errors = 0;
let stop = false;

async function loop(): Promise<void> {
  while (!stop) {
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      if (counting) {
        if (res.status === 200 && text === "Hello, World!") requests++;
        else errors++;
      }
    } catch {
      if (counting) errors++;
    }
  }
}

const loops = Array.from({ length: Number(concurrency) }, loop);
await sleep(Number(warmup) * 1000);
counting = true;
const started = performance.now();
await sleep(Number(seconds) * 1000);
counting = false;
const elapsed = (performance.now() - started) / 1000;
stop = true;
await Promise.all(loops);
console.log(JSON.stringify({ requests, errors, rps: Math.round(requests / elapsed) }));
