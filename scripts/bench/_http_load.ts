/**
 * @module
 * The load generator of `api_http.ts`, in its own process (pinned apart from the server when
 * `taskset` is there): `CONCURRENCY` keep-alive connections send the same request back to
 * back for `SECONDS`; prints `{"rps","p50","p99","errors"}` (ms) as one JSON line.
 *
 * Args: `<url> <GET|POST> <body or -> <concurrency> <seconds>`.
 */

const [url, method, body, conc, secs] = Deno.args;
const concurrency = Number(conc ?? 8);
const seconds = Number(secs ?? 3);
const lat: number[] = [];
let errors = 0;
const end = performance.now() + seconds * 1000;
const init: RequestInit = method === "POST"
  ? { method, body: body!, headers: { "content-type": "application/json" } }
  : { method: "GET" };

async function worker(): Promise<void> {
  while (performance.now() < end) {
    const t0 = performance.now();
    try {
      const res = await fetch(url!, init);
      await res.arrayBuffer();
      if (!res.ok) errors++;
    } catch {
      errors++;
    }
    lat.push(performance.now() - t0);
  }
}

const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const wall = (performance.now() - t0) / 1000;
lat.sort((a, b) => a - b);
const at = (p: number) => lat[Math.min(lat.length - 1, Math.ceil(p / 100 * lat.length) - 1)] ?? NaN;
console.log(JSON.stringify({ rps: lat.length / wall, p50: at(50), p99: at(99), errors }));
