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
import { Batch, Quality, ValueKind } from "../../engine/record.ts";
import { createSqliteSink } from "../../sinks/sqlite/mod.ts";
import { createDeadband } from "../../steps/deadband/mod.ts";
import { createRename } from "../../steps/rename/mod.ts";
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
    if (work.kind[0] !== ValueKind.number || passed !== seen) {
      throw new Error(`Benchmark chain dropped records: ${passed} of ${seen} passed`);
    }
    const f = await measureRate(runs, 2, refillOnly, "records/s");
    r.note = `${BATCHES_PER_RUN} batches a run; includes refilling the batch from a template ` +
      `(refill alone: ${fmt(f.value)} records/s)`;
    return r;
  },
};

// --- section: sqlite --------------------------------------------------------------------

const sqliteSection: BenchSection = {
  name: "sqlite",
  description: "history sink writes, 1,000-record batches, one transaction each, WAL",
  async run({ runs }) {
    const dir = await Deno.makeTempDir({ prefix: "bifrost_bench_" });
    const sink = createSqliteSink({ path: `${dir}/history.db`, maxSize: "1GB" }, {
      name: "bench",
      clock: systemClock,
    });
    try {
      await sink.open();
      const tpl = templates();
      const batches = 50;
      const r = await measureRate(Math.min(runs, 7), 1, async () => {
        for (let k = 0; k < batches; k++) await sink.write(tpl[k % TEMPLATES]!);
        return batches * BATCH;
      }, "records/s");
      // 1,000 distinct series a batch is the worst case for the (device, tag, source_ts)
      // index: every commit dirties about one index page per series.
      r.note = `${batches} batches a run, 1,000 distinct tags a batch; ` +
        `${fmt(sink.stats().rows)} rows, ${fmt(sink.stats().bytes / 1024 / 1024)} MB at the end`;
      return r;
    } finally {
      await sink.close();
      await Deno.remove(dir, { recursive: true });
    }
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
