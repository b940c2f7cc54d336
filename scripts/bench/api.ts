/**
 * @module
 * Benchmark of the live-data WebSocket (`app/http/ws.ts`): a gateway in its own process
 * (`_api_gateway.ts`: 10 devices × 100 tags polled every 100 ms, every value changing each
 * time) and `CLIENTS` WebSocket clients in this one, each subscribed to all 1,000 tags. Prints
 * the p50/p99 time from poll completion (the values' `ts`, taken when the read completed) to
 * the client, and the gateway's CPU (cores) and RSS, measured twice side by side: without and
 * with one more client that subscribes and never reads. Target: p99 under 20 ms, and the
 * stuck client moves neither the others' p99 nor the gateway's RSS.
 *
 * Run: `deno task bench:api` (env `BENCH_SECONDS`, default 10 per phase; `BENCH_CLIENTS`,
 * default 100). It first runs `api_http.ts` (the trigger and REST read paths against bare
 * Hono handlers; `BENCH_SKIP_HTTP=1` skips it).
 */

import { RawWsClient, WsClient } from "../../app/http/_ws_test_util.ts";

const CLIENTS = Number(Deno.env.get("BENCH_CLIENTS") ?? 100);
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 10);
const DEVICES = 10;
const TAGS = 100;

async function procStat(pid: number): Promise<{ rssKb: number; cpuTicks: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  const stat = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1]!.split(" ");
  return { rssKb, cpuTicks: Number(stat[11]) + Number(stat[12]) };
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const TS = /"ts":(\d+(?:\.\d+)?)/;

/** Records the polls produced and deadlines they skipped, from the gateway's `/metrics`. */
async function produced(port: number): Promise<{ records: number; skipped: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const records = Number(/^bifrost_records_produced_total (\S+)$/m.exec(text)![1]);
  let skipped = 0;
  for (const m of text.matchAll(/^bifrost_poll_skipped_total\{[^}]*\} (\S+)$/gm)) skipped += +m[1]!;
  return { records, skipped };
}

interface Phase {
  produced: number;
  skipped: number;
  p50: number;
  p99: number;
  updates: number;
  values: number;
  cpu: number;
  clientCpu: number;
  rssMb: number;
  rssMaxMb: number;
  dropped: number;
}

async function phase(
  port: number,
  pid: number,
  clients: WsClient[],
  seconds: number,
): Promise<Phase> {
  const lat: number[] = [];
  let values = 0;
  let dropped = 0;
  let measuring = false;
  for (const c of clients) {
    c.onMessage = undefined;
    // Parsing 70 MB/s of JSON here would measure this process, not the gateway: the probe
    // reads the first value's `ts` and counts the values by their tag fields.
    (c.ws as WebSocket).onmessage = (e) => {
      const s = e.data as string;
      if (!measuring) return;
      if (s.startsWith('{"type":"dropped"')) {
        dropped += Number(/"count":(\d+)/.exec(s)![1]);
        return;
      }
      const m = TS.exec(s);
      if (m) lat.push(Date.now() - Number(m[1]));
      for (let i = s.indexOf('"tag":'); i >= 0; i = s.indexOf('"tag":', i + 6)) values++;
    };
  }
  await new Promise((r) => setTimeout(r, 1000)); // settle
  measuring = true;
  const s0 = await procStat(pid);
  const c0 = await procStat(Deno.pid);
  const m0 = await produced(port);
  const t0 = performance.now();
  let rssMax = 0;
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    rssMax = Math.max(rssMax, (await procStat(pid)).rssKb);
  }
  const s1 = await procStat(pid);
  const c1 = await procStat(Deno.pid);
  const m1 = await produced(port);
  measuring = false;
  const wallS = (performance.now() - t0) / 1000;
  return {
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    updates: lat.length,
    values,
    cpu: (s1.cpuTicks - s0.cpuTicks) / 100 / wallS,
    clientCpu: (c1.cpuTicks - c0.cpuTicks) / 100 / wallS,
    rssMb: s1.rssKb / 1024,
    rssMaxMb: rssMax / 1024,
    dropped,
    produced: m1.records - m0.records,
    skipped: m1.skipped - m0.skipped,
  };
}

// The HTTP paths first (trigger and REST reads against bare handlers), in their own process.
if (Deno.env.get("BENCH_SKIP_HTTP") !== "1") {
  const http = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./api_http.ts", import.meta.url).pathname],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!http.success) throw new Error("scripts/bench/api_http.ts failed");
  console.log();
}

// The gateway on CPU 0, the clients (this process) on CPU 1, when taskset is there: the
// clients parse about a million values a second, which would otherwise steal the gateway's CPU.
const taskset = await Deno.stat("/usr/bin/taskset").then(() => true, () => false);
if (taskset) {
  await new Deno.Command("taskset", { args: ["-a", "-p", "-c", "1", String(Deno.pid)] }).output();
}
const gatewayArgs = [
  "run",
  "-A",
  "--v8-flags=--max-semi-space-size=1,--memory-saver-mode",
  new URL("./_api_gateway.ts", import.meta.url).pathname,
  String(DEVICES),
  String(TAGS),
];
const child = new Deno.Command(taskset ? "taskset" : Deno.execPath(), {
  args: taskset ? ["-c", "0", Deno.execPath(), ...gatewayArgs] : gatewayArgs,
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let first = "";
while (!first.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("gateway process ended before listening");
  first += value;
}
const { port } = JSON.parse(first.split("\n")[0]!);
const url = `ws://127.0.0.1:${port}/ws`;

const clients: WsClient[] = [];
for (let i = 0; i < CLIENTS; i++) {
  const c = await WsClient.connect(url);
  c.send({ type: "subscribe", patterns: ["*/*"] });
  const snap = await c.next(30_000);
  if (snap.tags !== DEVICES * TAGS) throw new Error(`snapshot of ${snap.tags} tags`);
  // Updates are read and thrown away until the measurement starts (no JSON parse).
  c.ws.onmessage = () => {};
  clients.push(c);
}

console.log(
  `${CLIENTS} clients × ${
    DEVICES * TAGS
  } tags every 100 ms, ${SECONDS} s per phase, gateway pid ${child.pid}` +
    (taskset ? " (gateway on CPU 0, clients on CPU 1)" : ""),
);
const without = await phase(port, child.pid, clients, SECONDS);
const stuck = await RawWsClient.connect(port);
await stuck.send({ type: "subscribe", patterns: ["*/*"] });
const withStuck = await phase(port, child.pid, clients, SECONDS);

const row = (name: string, f: (p: Phase) => string) =>
  console.log(`${name.padEnd(34)} ${f(without).padStart(14)} ${f(withStuck).padStart(14)}`);
console.log(`${"".padEnd(34)} ${"without".padStart(14)} ${"+ stuck client".padStart(14)}`);
row("poll → client p50 (ms)", (p) => p.p50.toFixed(1));
row("poll → client p99 (ms, < 20)", (p) => p.p99.toFixed(1));
row(
  "updates / values received per s",
  (p) => `${Math.round(p.updates / SECONDS)} / ${Math.round(p.values / SECONDS / 1000)}k`,
);
row("values dropped (reading clients)", (p) => String(p.dropped));
row(
  "values produced per s / polls skipped",
  (p) => `${Math.round(p.produced / SECONDS / 1000)}k / ${p.skipped}`,
);
row("gateway CPU (cores)", (p) => p.cpu.toFixed(2));
// Near 1.0 the clients, not the gateway, set the tail: read p99 with that in mind.
row("clients' process CPU (cores)", (p) => p.clientCpu.toFixed(2));
row("gateway RSS end / peak (MB)", (p) => `${p.rssMb.toFixed(0)} / ${p.rssMaxMb.toFixed(0)}`);

await stuck[Symbol.asyncDispose]();
for (const c of clients) c.ws.close();
await child.stdin.close();
await child.status;
Deno.exit(0);
