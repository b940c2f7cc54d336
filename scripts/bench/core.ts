/**
 * @module
 * Core benchmarks, one named section each. Run all, or some by name:
 *
 * ```sh
 * taskset -c 0 deno run -A scripts/bench/core.ts            # every section
 * taskset -c 0 deno run -A scripts/bench/core.ts steps --runs 21
 * ```
 *
 * Each section reports the median of repeated timed runs after a warm-up, plus the range.
 * Pin to one CPU (`taskset -c 0`): unpinned runs on these VMs flip between modes.
 * To add a section, append a {@linkcode BenchSection} to {@linkcode sections}.
 */

import { systemClock } from "../../engine/clock.ts";
import { Batch, Quality, StorageKind } from "../../engine/record.ts";
import { createSqliteSink } from "../../sinks/sqlite/mod.ts";
import { createDeadband } from "../../steps/deadband/mod.ts";
import { createRename } from "../../steps/rename/rename.ts";
import { createScale } from "../../steps/scale/mod.ts";

/** Options every section receives. */
export interface BenchOptions {
  /** Timed runs (after warm-up); the median is reported. */
  runs: number;
}

/** What a section measured. */
export interface BenchResult {
  /** Median throughput. */
  value: number;
  unit: string;
  min: number;
  max: number;
  /** Timed runs behind the median. */
  runs: number;
  /** Free text: sizes, what the figure includes. */
  note?: string;
}

/** One named benchmark. */
export interface BenchSection {
  name: string;
  description: string;
  run(o: BenchOptions): BenchResult | Promise<BenchResult>;
}

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs `fn` `warmup + runs` times and summarises the rates of the timed runs. */
export async function measureRate(
  runs: number,
  warmup: number,
  fn: () => number | Promise<number>,
  unit: string,
): Promise<BenchResult> {
  for (let i = 0; i < warmup; i++) await fn();
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const n = await fn();
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  return {
    value: median(rates),
    unit,
    min: Math.min(...rates),
    max: Math.max(...rates),
    runs,
  };
}

// --- section: steps ---------------------------------------------------------------------

const BATCH = 1_000;
const BATCHES_PER_RUN = 500;
const TEMPLATES = 8;

/** Template batches: 10 devices x 100 numeric tags, values moving between templates. */
function templates(): Batch[] {
  const out: Batch[] = [];
  for (let p = 0; p < TEMPLATES; p++) {
    const b = new Batch(BATCH);
    for (let i = 0; i < BATCH; i++) {
      b.add(`plc-${i % 10}`, `temp${i}`, 1000 + i + p * 0.25, Quality.good, undefined, p, p, i);
    }
    out.push(b);
  }
  return out;
}

/** Copies a template into the working batch (steps work in place). */
function refill(dst: Batch, src: Batch): void {
  const n = src.length;
  dst.num.set(src.num.subarray(0, n));
  dst.kind.set(src.kind.subarray(0, n));
  dst.quality.set(src.quality.subarray(0, n));
  dst.sourceTs.set(src.sourceTs.subarray(0, n));
  dst.gatewayTs.set(src.gatewayTs.subarray(0, n));
  dst.seq.set(src.seq.subarray(0, n));
  for (let i = 0; i < n; i++) {
    dst.device[i] = src.device[i]!;
    dst.tag[i] = src.tag[i]!;
  }
  dst.length = n;
}

const stepsSection: BenchSection = {
  name: "steps",
  description: "scale → deadband (tiny band, all pass) → rename, in process, 1,000-record batches",
  async run({ runs }) {
    const scale = createScale({ tags: ["temp*"], gain: 1.8, offset: 32 });
    const deadband = createDeadband({ absolute: 1e-9, heartbeat: "10s" });
    const rename = createRename({ map: { temp1: "supply" }, prefix: "boiler." });
    const tpl = templates();
    const work = tpl[0]!.clone();
    let passed = 0;
    const once = (): number => {
      let n = 0;
      for (let k = 0; k < BATCHES_PER_RUN; k++) {
        refill(work, tpl[k % TEMPLATES]!);
        const out = rename.process(
          deadband.process(scale.process(work) as Batch) as Batch,
        ) as Batch;
        passed += out.length;
        n += BATCH;
      }
      return n;
    };
    const refillOnly = (): number => {
      for (let k = 0; k < BATCHES_PER_RUN; k++) refill(work, tpl[k % TEMPLATES]!);
      return BATCH * BATCHES_PER_RUN;
    };
    const r = await measureRate(runs, 5, once, "records/s");
    const seen = (runs + 5) * BATCHES_PER_RUN * BATCH;
    if (work.kind[0] !== StorageKind.number || passed !== seen) {
      throw new Error(`Benchmark chain dropped records: ${passed} of ${seen} passed`);
    }
    const f = await measureRate(runs, 2, refillOnly, "records/s");
    r.note = `${BATCHES_PER_RUN} batches a run; includes refilling the batch from a template ` +
      `(refill alone: ${fmt(f.value)} records/s)`;
    return r;
  },
};

// --- section: sqlite --------------------------------------------------------------------

/** The part of a sink the sqlite workloads use (the old implementation can be passed in too). */
export interface HistoryBenchSink {
  open(): Promise<void>;
  write(b: Batch): Promise<void>;
  close(): Promise<void>;
  stats(): { rows: number; bytes: number };
}

/** Writes `perRun` batches a run from `next(k)` and measures records/s. */
async function historyRate(
  runs: number,
  create: (path: string) => HistoryBenchSink,
  perRun: number,
  next: (k: number) => Batch,
): Promise<{ r: BenchResult; rows: number; mb: number }> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_bench_" });
  const sink = create(`${dir}/history.db`);
  try {
    await sink.open();
    let k = 0;
    const r = await measureRate(runs, 1, async () => {
      let n = 0;
      for (let i = 0; i < perRun; i++) {
        const b = next(k++);
        await sink.write(b);
        n += b.length;
      }
      return n;
    }, "records/s");
    const st = sink.stats();
    return { r, rows: st.rows, mb: st.bytes / 1024 / 1024 };
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** 1,000 devices x 100 tags, one 100-record batch per device per second of source time. */
function deviceBatches(): (k: number) => Batch {
  const devices = 1_000, tags = 100;
  const batches = Array.from({ length: devices }, (_, d) => {
    const b = new Batch(tags);
    for (let t = 0; t < tags; t++) {
      b.add(`plc-${d}`, `tag${t}`, t, Quality.good, undefined, 0, 0, t);
    }
    return b;
  });
  const t0 = Date.now();
  return (k) => {
    const b = batches[k % devices]!;
    const cycle = Math.floor(k / devices), ts = t0 + cycle * 1000;
    b.sourceTs.fill(ts, 0, tags);
    b.gatewayTs.fill(ts + 3, 0, tags);
    for (let t = 0; t < tags; t++) b.num[t] = cycle + t * 0.5, b.seq[t] = cycle * tags + t;
    return b;
  };
}

/**
 * The two history workloads: (a) 1,000-record batches of 1,000 distinct tags (10 devices x
 * 100), (b) 100-record batches of one device each across 1,000 devices x 100 tags (100k
 * series), as the Modbus target polls them. Exported so a temp copy of an older sink can be
 * measured side by side.
 */
export async function historyWorkloads(
  runs: number,
  create: (path: string) => HistoryBenchSink,
): Promise<{ a: BenchResult; b: BenchResult }> {
  const tpl = templates();
  const a = await historyRate(runs, create, 50, (k) => tpl[k % TEMPLATES]!);
  a.r.note = `(a) 50 batches of 1,000 records a run, 1,000 distinct tags a batch; ` +
    `${fmt(a.rows)} records, ${fmt(a.mb)} MB at the end`;
  const b = await historyRate(runs, create, 2_000, deviceBatches());
  b.r.note = `(b) 2,000 batches of 100 records (one device each) a run, 100k series; ` +
    `${fmt(b.rows)} records, ${fmt(b.mb)} MB at the end`;
  return { a: a.r, b: b.r };
}

/** Seconds of the real-time load (1,000 batches of 100 records a second, 100k series). */
const REALTIME_S = 30;

/** CPU seconds of this process (utime + stime from /proc, USER_HZ 100); NaN off Linux. */
function cpuSeconds(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Resident MB of glibc's main malloc arena (`[heap]` in /proc/self/smaps), where SQLite's page
 * cache and statements live (node:sqlite exposes no sqlite3_memory_used); NaN off Linux.
 */
function mallocArenaMb(): number {
  try {
    const smaps = Deno.readTextFileSync("/proc/self/smaps");
    const at = smaps.indexOf("[heap]\n");
    if (at < 0) return 0;
    return Number(/Rss:\s+(\d+) kB/.exec(smaps.slice(at))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

/**
 * The Modbus benchmark's load in real time: 1,000 devices x 100 tags (f0..f49, i50..i99, two
 * source times a poll as two requests give), one 100-record batch per device a second, paced
 * in slices of 100 batches every 100 ms, into a sink configured as that benchmark's flow.
 * Returns a memory and CPU trace, one line per 5 s.
 */
async function realtimeLoad(seconds: number): Promise<string[]> {
  const devices = 1_000, tags = 100;
  const names = Array.from({ length: tags }, (_, t) => t < tags / 2 ? `f${t}` : `i${t}`);
  const batches = Array.from({ length: devices }, (_, d) => {
    const b = new Batch(tags);
    for (let t = 0; t < tags; t++) b.add(`d${d}`, names[t]!, 0, Quality.good, undefined, 0, 0, t);
    return b;
  });
  const dir = await Deno.makeTempDir({ prefix: "bifrost_bench_" });
  const path = `${dir}/history.db`;
  const mb = (bytes: number) => bytes / 1024 / 1024;
  const size = (p: string) => Deno.stat(p).then((s) => s.size, () => 0);
  const m0 = Deno.memoryUsage();
  const lines = [
    `real-time load, ${seconds} s: before opening RSS ${fmt(mb(m0.rss))} MB, heap ` +
    `${fmt(mb(m0.heapUsed))} of ${fmt(mb(m0.heapTotal))} MB, malloc arena ${
      fmt(mallocArenaMb())
    } MB`,
  ];
  const sink = createSqliteSink(
    { path, maxAge: "1h", maxSize: "4GB" },
    { name: "bench", clock: systemClock },
  );
  await sink.open();
  const db = sink.store!.db;
  const pragma = (name: string) =>
    (db.prepare(`PRAGMA ${name}`).get() as Record<string, number>)[name]!;
  const cache = pragma("cache_size");
  const cacheMb = cache < 0 ? -cache / 1024 : mb(cache * pragma("page_size"));
  let cpu = cpuSeconds(), wall = performance.now(), busy = 0, worst = 0, sent = 0;
  const t0 = performance.now(), start = Date.now();
  try {
    for (let s = 0; s < seconds; s++) {
      const ts = start + s * 1000;
      for (let slice = 0; slice < 10; slice++) {
        for (let d = slice * 100; d < (slice + 1) * 100; d++) {
          const b = batches[d]!;
          b.sourceTs.fill(ts, 0, tags / 2);
          b.sourceTs.fill(ts + 2, tags / 2, tags);
          b.gatewayTs.fill(ts + 3, 0, tags);
          for (let t = 0; t < tags; t++) b.num[t] = d + t + 0.5 * (s & 1), b.seq[t] = s * tags + t;
          const w = performance.now();
          await sink.write(b);
          const dt = performance.now() - w;
          busy += dt, worst = Math.max(worst, dt), sent += tags;
        }
        const wait = t0 + s * 1000 + (slice + 1) * 100 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      if ((s + 1) % 5 && s + 1 !== seconds) continue;
      const m = Deno.memoryUsage(), c = cpuSeconds(), now = performance.now();
      const span = (now - wall) / 1000;
      lines.push(
        `t=${s + 1}s RSS ${fmt(mb(m.rss))} MB, heap ${fmt(mb(m.heapUsed))} of ` +
          `${fmt(mb(m.heapTotal))} MB, malloc arena ${fmt(mallocArenaMb())} MB (page cache <= ` +
          `${cacheMb.toFixed(1)} MB), WAL ${mb(await size(`${path}-wal`)).toFixed(1)} MB, db ` +
          `${fmt(mb(await size(path)))} MB; CPU ${((c - cpu) / span).toFixed(3)} core, in ` +
          `write() ${fmt(busy / span)} ms/s (longest ${worst.toFixed(1)} ms)`,
      );
      cpu = c, wall = now, busy = 0, worst = 0;
    }
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
  const rate = sent / ((performance.now() - t0) / 1000);
  lines.push(`${fmt(rate)} records/s sustained (target 100,000)`);
  return lines;
}

const sqliteSink = (flushInterval: string) => (path: string) =>
  createSqliteSink({ path, maxSize: "1GB", flushInterval }, { name: "bench", clock: systemClock });

const sqliteSection: BenchSection = {
  name: "sqlite",
  description: "history sink writes, flushInterval 1s (the default: one commit a second), " +
    "and memory and CPU under the Modbus benchmark's load in real time",
  async run({ runs }) {
    const n = Math.min(runs, 7);
    // First, while the process is fresh, so its RSS shows the sink's share.
    const trace = await realtimeLoad(REALTIME_S);
    const { a, b } = await historyWorkloads(n, sqliteSink("1s"));
    const z = await historyWorkloads(n, sqliteSink("0s"));
    const rss = Deno.memoryUsage().rss / 1024 / 1024;
    const line = (r: BenchResult) =>
      `${fmt(r.value)} records/s (min ${fmt(r.min)}, max ${fmt(r.max)})`;
    return {
      ...b,
      note: `${b.note}\n  (a) ${line(a)}: ${a.note}` +
        `\n  flushInterval 0s (a commit every write): (a) ${line(z.a)}, (b) ${line(z.b)}` +
        `\n  benchmark process RSS ${fmt(rss)} MB after both` +
        trace.map((l) => `\n  ${l}`).join(""),
    };
  },
};

/** Every section, in run order. */
export const sections: BenchSection[] = [stepsSection, sqliteSection];

// --- runner -----------------------------------------------------------------------------

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

async function main(args: string[]): Promise<void> {
  let runs = 15;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--runs") runs = Number(args[++i]);
    else names.push(args[i]!);
  }
  const chosen = names.length ? sections.filter((s) => names.includes(s.name)) : sections;
  const unknown = names.filter((n) => !sections.some((s) => s.name === n));
  if (unknown.length) {
    throw new Error(
      `Cannot run benchmark ${unknown.join(", ")}: known sections are ${
        sections.map((s) => s.name).join(", ")
      }`,
    );
  }
  for (const s of chosen) {
    const r = await s.run({ runs });
    console.log(
      `${s.name}: ${s.description}\n  median ${fmt(r.value)} ${r.unit} ` +
        `(min ${fmt(r.min)}, max ${fmt(r.max)}, ${r.runs} runs)${r.note ? `\n  ${r.note}` : ""}`,
    );
  }
}

if (import.meta.main) await main(Deno.args);
