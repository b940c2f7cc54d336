/**
 * @module
 * Benchmark of the `function` step's worker round trip against the floor, a worker round
 * trip of a plain 1,000-value `Float64Array`, all in the same run. The target: a
 * user function's round trip for a batch of 1,000 records (c, d) at most 2x that floor (a).
 *
 * The cases run interleaved: every round runs (a), (c), (d) once each, in an order that
 * rotates from round to round, so that drift (other processes, frequency, GC, JIT) hits
 * all of them alike. It prints p50 and p90 of every case, the ratios of the p50s, and the
 * median of the per-round ratios (each round's (c) over the same round's (a)). The cost of
 * structured-cloning 1,000 record objects (b) is measured afterwards, for reference only.
 *
 * Run pinned to one CPU (unpinned runs flip between modes, see DENO_NOTES):
 *
 * ```sh
 * taskset -c 0 deno run -A scripts/bench/functions.ts [rounds] [warm-up rounds]
 * ```
 */

import { FunctionHost } from "../../engine/functions/host.ts";
import { systemClock } from "../../engine/clock.ts";
import { nullLogger } from "../../engine/log.ts";
import { Batch, type DataRecord } from "../../engine/record.ts";

const N = 1000;
const ROUNDS = Number(Deno.args[0] ?? 5000);
const WARMUP = Number(Deno.args[1] ?? 2000);
const CLONE_ITER = 200;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** A worker that echoes every message: the floor of a round trip. */
class Echo {
  #w: Worker;
  #resolve: ((v: unknown) => void) | undefined;

  constructor() {
    const src = "self.onmessage = (e) => self.postMessage(e.data);";
    this.#w = new Worker(`data:application/javascript,${encodeURIComponent(src)}`, {
      type: "module",
      deno: { permissions: "none" },
    });
    // One handler for the whole run: the floor pays no listener bookkeeping per message.
    this.#w.onmessage = (e) => this.#resolve!(e.data);
  }

  roundTrip(data: unknown): Promise<unknown> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#w.postMessage(data);
    });
  }

  close(): void {
    this.#w.terminate();
  }
}

// Names are shared string objects, as a driver's tag configs give them.
const devices = Array.from({ length: 4 }, (_, i) => `plc-${i}`);
const tags = Array.from({ length: 50 }, (_, i) => `tag${i}`);
const records: DataRecord[] = [];
for (let i = 0; i < N; i++) {
  records.push({
    device: devices[i % 4]!,
    tag: tags[i % 50]!,
    value: i * 0.5,
    quality: "good",
    sourceTs: 1_700_000_000_000 + i,
    gatewayTs: 1_700_000_000_001 + i,
    seq: 1_700_000_000_000_000 + i,
  });
}
const batch = Batch.from(records);

const dir = await Deno.makeTempDir({ prefix: "bifrost-bench-" });
await Deno.writeTextFile(`${dir}/identity.ts`, "export default (records: unknown[]) => records;\n");
await Deno.writeTextFile(
  `${dir}/arith.ts`,
  `export default function (records: { value: unknown }[]) {
  for (const r of records) r.value = (r.value as number) * 1.8 + 32;
  return records;
}
`,
);

function host(file: string): FunctionHost {
  return new FunctionHost({
    step: "bench",
    path: `${dir}/${file}`,
    params: {},
    permissions: {},
    timeoutMs: 1000,
    log: nullLogger,
    clock: systemClock,
    countError: (r) => {
      throw new Error(r);
    },
  });
}

interface Case {
  name: string;
  /** Untimed preparation of one run (a fresh batch, as every poll hands over). */
  prepare: () => unknown;
  run: (input: unknown) => Promise<unknown>;
  t: number[];
}

const echo = new Echo();
const floats = new Float64Array(N).map((_, i) => i);
const identity = host("identity.ts");
const arith = host("arith.ts");
try {
  await identity.start();
  await arith.start();
  // A step owns its input batch and may return it mutated (the function step decodes the
  // reply into it), so each run gets its own copy, made outside the timed region.
  const fresh = () => batch.clone();
  const cases: Case[] = [
    {
      name: "(a) worker round trip, Float64Array(1000)",
      prepare: () => floats,
      run: (f) => echo.roundTrip(f),
      t: [],
    },
    {
      name: "(c) function step, identity",
      prepare: fresh,
      run: (b) => identity.process(b as Batch),
      t: [],
    },
    {
      name: "(d) function step, arithmetic",
      prepare: fresh,
      run: (b) => arith.process(b as Batch),
      t: [],
    },
  ];
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    for (let j = 0; j < cases.length; j++) {
      const c = cases[(r + j) % cases.length]!;
      const input = c.prepare();
      const t0 = performance.now();
      await c.run(input);
      const dt = performance.now() - t0;
      if (r >= WARMUP) c.t.push(dt * 1000);
    }
  }
  console.log(
    `batch of ${N} records; ${ROUNDS} interleaved rounds (order rotating) after ${WARMUP} ` +
      `warm-up rounds; µs`,
  );
  console.log(`${"".padEnd(46)} ${"p50".padStart(8)} ${"p90".padStart(8)}`);
  const p50: number[] = [];
  for (const c of cases) {
    const s = sorted(c.t);
    p50.push(quantile(s, 0.5));
    const row = `${c.name.padEnd(46)} ${quantile(s, 0.5).toFixed(1).padStart(8)} `;
    console.log(row + quantile(s, 0.9).toFixed(1).padStart(8));
  }
  const clone: number[] = [];
  for (let i = 0; i < CLONE_ITER + 20; i++) {
    const t0 = performance.now();
    await echo.roundTrip(records);
    if (i >= 20) clone.push((performance.now() - t0) * 1000);
  }
  const cs = sorted(clone);
  console.log(
    `${"(b) worker round trip, 1000 objects (clone)".padEnd(46)} ` +
      `${quantile(cs, 0.5).toFixed(1).padStart(8)} ${quantile(cs, 0.9).toFixed(1).padStart(8)}` +
      `   (${CLONE_ITER} iterations, not interleaved)`,
  );
  const a = cases[0]!.t;
  const paired = (k: number) => quantile(sorted(cases[k]!.t.map((x, i) => x / a[i]!)), 0.5);
  console.log(
    `ratio of p50s: c/a = ${(p50[1]! / p50[0]!).toFixed(2)}, d/a = ${
      (p50[2]! / p50[0]!).toFixed(2)
    }; median per-round ratio: c/a = ${paired(1).toFixed(2)}, d/a = ${
      paired(2).toFixed(2)
    } (target <= 2)`,
  );
} finally {
  echo.close();
  await identity.close();
  await arith.close();
  await Deno.remove(dir, { recursive: true });
}
