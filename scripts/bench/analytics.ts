/**
 * @module
 * `deno task bench:analytics`: the edge analytics steps, each beside a hand-written TypeScript
 * loop doing the same arithmetic on the same batches in the same run (ratios, medians of
 * interleaved runs), plus:
 * - a 1-minute window sliding every 10 s with 6 aggregates over 10,000 tags: records/s on one
 *   core (target ≥ 1,000,000/s) and the p99 time each batch spends in the step;
 * - 1,000,000 points in an open percentile window: bytes held (target < 32 MB), exact
 *   (buffered values) and sketch (DDSketch) side by side;
 * - the same sliding window with p50/p95/p99: records/s, p99 per batch, bytes per tag and the
 *   largest difference between sketch and exact percentiles, sketch against exact.
 *
 * Pin it: `taskset -c 0 deno task bench:analytics` (the task does). `--quick` for a smoke run.
 */

import { Batch, Quality } from "../../engine/plugin.ts";
import { createWindow } from "../../steps/window/mod.ts";
import { analyticsSteps } from "./_analytics_steps.ts";
import { median } from "./core.ts";

const quick = Deno.args.includes("--quick");
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const TAGS = 10_000;
const DEVICES = 10;
const POLL_MS = 100; // each tag every 100 ms: 100,000 records per second of data time
const RUNS = quick ? 2 : 5;
const POLLS = quick ? 300 : 1_200; // 30 s or 2 min of data time per run
const SIDE_POLLS = quick ? 100 : 400; // per run of each step beside its baseline

/** One poll of every tag, as 10 device batches of 1,000 records. */
function pollBatches(): Batch[] {
  const out: Batch[] = [];
  const per = TAGS / DEVICES;
  for (let d = 0; d < DEVICES; d++) {
    const b = new Batch(per);
    for (let i = 0; i < per; i++) {
      b.add(DEVICE_NAMES[d]!, TAG_NAMES[i]!, 0, Quality.good, undefined, 0, 0, 0);
    }
    out.push(b);
  }
  return out;
}

/**
 * Sets the poll's time and values (a slow ramp plus noise per tag), restoring every column:
 * steps that drop records compact a batch in place (swinging-door), as the engine allows.
 */
function stamp(batches: Batch[], poll: number, t0: number): void {
  const ts = t0 + poll * POLL_MS;
  const per = TAGS / DEVICES;
  batches.forEach((b, d) => {
    b.length = per;
    for (let i = 0; i < per; i++) {
      b.device[i] = DEVICE_NAMES[d]!;
      b.tag[i] = TAG_NAMES[i]!;
      b.kind[i] = 0;
      b.quality[i] = 0;
      b.num[i] = 50 + 10 * Math.sin(i + poll * 0.01) + ((poll * 7919 + i * 104729) % 1000) / 1000;
      b.sourceTs[i] = ts;
      b.gatewayTs[i] = ts;
    }
  });
}
const DEVICE_NAMES = Array.from({ length: DEVICES }, (_, d) => `plc-${d}`);
const TAG_NAMES = Array.from({ length: TAGS / DEVICES }, (_, i) => `tag${i}`);

/**
 * The baseline: the same panes arithmetic as the window step (count, Welford mean and M2,
 * sum, min, max, first/last and the trapezoid integral that every pane keeps), written as one
 * loop with the window fixed at compile time (1 min, 10 s hop), no config, no quality.
 */
function handWrittenWindow() {
  const PANE = 10_000, RING = 9, F = 12, PER_WINDOW = 6;
  const ids = new Map<string, Map<string, number>>();
  let panes = new Float64Array(0);
  let paneId = new Float64Array(0);
  let keys = 0, nextEnd = NaN, maxTs = -Infinity, emitted = 0;
  const devs: string[] = [], tags: string[] = [];
  return (b: Batch): number => {
    const out = new Batch(16);
    let byTag = ids.get(b.device[0]!);
    if (!byTag) ids.set(b.device[0]!, byTag = new Map());
    for (let i = 0; i < b.length; i++) {
      const ts = b.sourceTs[i]!;
      if (nextEnd !== nextEnd) nextEnd = (Math.floor((ts - 60_000) / PANE) + 1) * PANE + 60_000;
      if (ts > maxTs) {
        maxTs = ts;
        while (nextEnd <= ts) {
          const first = (nextEnd - 60_000) / PANE;
          for (let k = 0; k < keys; k++) {
            let n = 0, mean = 0, m2 = 0, sum = 0, mn = Infinity, mx = -Infinity;
            for (let p = first; p < first + PER_WINDOW; p++) {
              const s = k * RING + (p % RING);
              if (paneId[s] !== p) continue;
              const o = s * F, nb = panes[o]!;
              if (nb === 0) continue;
              const d = panes[o + 1]! - mean, nn = n + nb;
              mean += d * nb / nn;
              m2 += panes[o + 2]! + d * d * n * nb / nn;
              n = nn;
              sum += panes[o + 3]!;
              if (panes[o + 4]! < mn) mn = panes[o + 4]!;
              if (panes[o + 5]! > mx) mx = panes[o + 5]!;
            }
            if (n === 0) continue;
            const dev = devs[k]!, tag = tags[k]!;
            out.add(dev, `${tag}.mean`, mean, 0, undefined, nextEnd, 0, emitted++);
            out.add(dev, `${tag}.min`, mn, 0, undefined, nextEnd, 0, emitted++);
            out.add(dev, `${tag}.max`, mx, 0, undefined, nextEnd, 0, emitted++);
            out.add(dev, `${tag}.sum`, sum, 0, undefined, nextEnd, 0, emitted++);
            out.add(dev, `${tag}.count`, n, 0, undefined, nextEnd, 0, emitted++);
            out.add(dev, `${tag}.stddev`, Math.sqrt(m2 / (n - 1)), 0, undefined, nextEnd, 0, 0);
          }
          nextEnd += PANE;
        }
      }
      const tag = b.tag[i]!;
      let k = byTag.get(tag);
      if (k === undefined) {
        byTag.set(tag, k = keys++);
        devs.push(b.device[i]!);
        tags.push(tag);
        if (keys * RING * F > panes.length) {
          const g = new Float64Array(keys * RING * F * 2);
          g.set(panes);
          panes = g;
          const q = new Float64Array(keys * RING * 2).fill(NaN);
          q.set(paneId);
          paneId = q;
        }
      }
      const p = Math.floor(ts / PANE), s = k * RING + (p % RING), o = s * F, v = b.num[i]!;
      if (paneId[s] !== p) {
        paneId[s] = p;
        panes[o] = 0, panes[o + 1] = 0, panes[o + 2] = 0, panes[o + 3] = 0;
        panes[o + 4] = Infinity, panes[o + 5] = -Infinity;
        panes[o + 6] = ts, panes[o + 7] = v, panes[o + 8] = ts, panes[o + 9] = v;
        panes[o + 10] = 0, panes[o + 11] = 0;
      }
      const dt = ts - panes[o + 8]!;
      panes[o + 10] = panes[o + 10]! + (panes[o + 9]! + v) * 0.5 * dt;
      panes[o + 11] = panes[o + 11]! + dt;
      panes[o + 8] = ts;
      panes[o + 9] = v;
      const n = panes[o]! + 1, d = v - panes[o + 1]!;
      panes[o] = n;
      panes[o + 1] = panes[o + 1]! + d / n;
      panes[o + 2] = panes[o + 2]! + d * (v - panes[o + 1]!);
      panes[o + 3] = panes[o + 3]! + v;
      if (v < panes[o + 4]!) panes[o + 4] = v;
      if (v > panes[o + 5]!) panes[o + 5] = v;
    }
    return out.length;
  };
}

/** Runs `process` over POLLS polls; returns records/s, batch times and records out. */
function drive(process: (b: Batch) => number, batches: Batch[], t0: number, polls = POLLS) {
  const times: number[] = [];
  let outCount = 0;
  const start = performance.now();
  for (let p = 0; p < polls; p++) {
    stamp(batches, p, t0);
    for (const b of batches) {
      const a = performance.now();
      outCount += process(b);
      times.push(performance.now() - a);
    }
  }
  // The steps' own time: the sum of the batch times (stamping the input is left out).
  let ms = 0;
  for (const t of times) ms += t;
  void start;
  times.sort((a, b) => a - b);
  return {
    rate: (polls * TAGS) / (ms / 1000),
    p99: times[Math.floor(times.length * 0.99)]!,
    max: times[times.length - 1]!,
    outCount,
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

function windowThroughput(): void {
  console.log(
    `\n1-minute window sliding every 10 s, 6 aggregates (mean min max sum count stddev), ` +
      `${fmt(TAGS)} tags in ${DEVICES} batches of ${TAGS / DEVICES} per poll, ${POLLS} polls a run`,
  );
  const batches = pollBatches();
  const step: number[] = [], hand: number[] = [], p99: number[] = [], hp99: number[] = [];
  let worst = 0, outs = 0, hOuts = 0;
  for (let r = 0; r < RUNS + 1; r++) {
    const t0 = 1_700_000_000_000 + r * 10_000_000;
    const w = createWindow({
      size: "1m",
      hop: "10s",
      aggregates: ["mean", "min", "max", "sum", "count", "stddev"],
    });
    const a = drive((b) => w.process(b).length, batches, t0);
    const h = drive(handWrittenWindow(), batches, t0);
    if (r === 0) continue; // warm-up
    step.push(a.rate);
    hand.push(h.rate);
    p99.push(a.p99);
    hp99.push(h.p99);
    worst = Math.max(worst, a.max);
    outs = a.outCount;
    hOuts = h.outCount;
  }
  if (outs !== hOuts) throw new Error(`window and baseline disagree: ${outs} vs ${hOuts} records`);
  const m = median(step), mh = median(hand);
  console.log(
    `  window step:   ${fmt(m)} records/s (median of ${RUNS}; range ${fmt(Math.min(...step))}-${
      fmt(Math.max(...step))
    }), target ≥ 1,000,000: ${m >= 1_000_000 ? "met" : "NOT met"}`,
  );
  console.log(
    `  per batch of 1,000: p99 ${median(p99).toFixed(3)} ms, worst ${worst.toFixed(1)} ms ` +
      `(the batch that crosses a window's end closes it for all 10,000 tags: 60,000 records out)`,
  );
  console.log(`  hand-written:  ${fmt(mh)} records/s, p99 ${median(hp99).toFixed(3)} ms`);
  console.log(
    `  ratio step/hand-written: ${(m / mh).toFixed(2)}x (aim ≥ 0.7x); ${
      fmt(outs)
    } records out a run`,
  );
}

function bufferedPoints(): void {
  const KEYS = 1_000, PER = 1_000;
  console.log(
    `\n1,000,000 points in an open 1-hour p95 window: ${KEYS} tags × ${PER} values, ` +
      `percentiles exact (buffered) and sketch (DDSketch, 1 %)`,
  );
  for (const percentiles of ["exact", "sketch"] as const) {
    gc();
    const before = Deno.memoryUsage();
    const w = createWindow({ size: "1h", aggregates: ["p95", "mean"], percentiles });
    const b = new Batch(KEYS);
    for (let k = 0; k < KEYS; k++) b.add("plc", `tag${k}`, 0, Quality.good, undefined, 0, 0, 0);
    for (let p = 0; p < PER; p++) {
      for (let k = 0; k < KEYS; k++) {
        b.num[k] = p + k;
        b.sourceTs[k] = 1_700_000_000_000 + p * 1000; // 1,000 s: all inside the hour
      }
      w.process(b);
    }
    gc();
    const after = Deno.memoryUsage();
    const st = w.stats();
    const mb = (x: number) => (x / 1048576).toFixed(1);
    const state = w.stateBytes();
    console.log(
      `  ${percentiles.padEnd(6)} buffered ${fmt(st.bufferedPoints)} points; typed-array state ${
        mb(state)
      } MB, ${fmt(state / KEYS)} B per key (target < 32 MB: ${
        state < 32 * 1048576 ? "met" : "NOT met"
      }); process growth: heap ${mb(after.heapUsed - before.heapUsed)} MB, external ${
        mb(after.external - before.external)
      } MB, rss ${mb(after.rss - before.rss)} MB`,
    );
  }
}

/** The 1-minute sliding window with percentiles: sketch against exact, same run. */
function percentileThroughput(): void {
  const aggs = ["mean", "min", "max", "p50", "p95", "p99"] as const;
  console.log(
    `\n1-minute window sliding every 10 s with percentiles (${aggs.join(" ")}), ${
      fmt(TAGS)
    } tags, ${POLLS} polls a run, median of ${RUNS}: sketch against exact`,
  );
  const batches = pollBatches();
  const rate = { sketch: [] as number[], exact: [] as number[] };
  const p99 = { sketch: [] as number[], exact: [] as number[] };
  const bytes = { sketch: 0, exact: 0 };
  const outs = { sketch: [] as number[], exact: [] as number[] };
  let worstErr = 0;
  for (let r = 0; r < RUNS + 1; r++) {
    const t0 = 1_700_000_000_000 + r * 10_000_000;
    const last: Record<string, Float64Array> = {};
    for (const percentiles of ["sketch", "exact"] as const) {
      const w = createWindow({ size: "1m", hop: "10s", aggregates: [...aggs], percentiles });
      let peak = 0;
      const got: number[] = [];
      const a = drive(
        (b) => {
          const out = w.process(b);
          if (out.length > 0) {
            peak = Math.max(peak, w.stateBytes());
            if (got.length < 60_000) { for (let i = 0; i < out.length; i++) got.push(out.num[i]!); }
          }
          return out.length;
        },
        batches,
        t0,
      );
      last[percentiles] = Float64Array.from(got);
      if (r === 0) continue;
      rate[percentiles].push(a.rate);
      p99[percentiles].push(a.p99);
      bytes[percentiles] = Math.max(bytes[percentiles], peak, w.stateBytes());
      outs[percentiles].push(a.outCount);
    }
    const s = last.sketch!, e = last.exact!;
    for (let i = 0; i < Math.min(s.length, e.length); i++) {
      if (e[i] !== 0) worstErr = Math.max(worstErr, Math.abs(s[i]! - e[i]!) / Math.abs(e[i]!));
    }
  }
  if (outs.sketch.join() !== outs.exact.join()) {
    throw new Error("sketch and exact disagree on records out");
  }
  for (const k of ["sketch", "exact"] as const) {
    console.log(
      `  ${k.padEnd(6)} ${fmt(median(rate[k])).padStart(10)} records/s, p99 per batch ${
        median(p99[k]).toFixed(3)
      } ms, state (panes + percentiles) ${(bytes[k] / 1048576).toFixed(1)} MB = ${
        fmt(bytes[k] / TAGS)
      } B per tag`,
    );
  }
  console.log(
    `  ratio sketch/exact: throughput ${(median(rate.sketch) / median(rate.exact)).toFixed(2)}x, ` +
      `memory ${(bytes.sketch / bytes.exact).toFixed(3)}x; largest relative difference of any ` +
      `aggregate in the first windows: ${(worstErr * 100).toFixed(3)} % (stated: 1 %)`,
  );
}

/**
 * Runs a step and its baseline in lockstep: each poll is stamped and timed through the step,
 * stamped again and timed through the baseline, so both see the same moments of a loaded
 * machine (runs one after the other gave ratios from 0.5x to 2x for the same code).
 */
function driveBoth(
  step: (b: Batch) => number,
  hand: (b: Batch) => number,
  batches: Batch[],
  t0: number,
  polls: number,
) {
  let ms = 0, hms = 0, out = 0, hout = 0;
  for (let p = 0; p < polls; p++) {
    stamp(batches, p, t0);
    let a = performance.now();
    for (const b of batches) out += step(b);
    ms += performance.now() - a;
    stamp(batches, p, t0);
    a = performance.now();
    for (const b of batches) hout += hand(b);
    hms += performance.now() - a;
  }
  return { rate: polls * TAGS / (ms / 1000), hand: polls * TAGS / (hms / 1000), out, hout };
}

function sideBySide(): void {
  console.log(
    `\nEach step beside a hand-written loop doing the same arithmetic (same batches, ${SIDE_POLLS} polls ` +
      `of ${
        fmt(TAGS)
      } tags a run, step and loop alternating poll by poll; medians of ${RUNS} runs):`,
  );
  const batches = pollBatches();
  for (const s of analyticsSteps()) {
    const rs: number[] = [], rh: number[] = [], ratios: number[] = [];
    for (let r = 0; r < RUNS + 1; r++) {
      const t0 = 1_700_000_000_000 + r * 10_000_000;
      const x = driveBoth(s.step(), s.hand(), batches, t0, SIDE_POLLS);
      if (x.out !== x.hout) {
        throw new Error(`${s.name}: step and baseline disagree (${x.out} vs ${x.hout})`);
      }
      if (r === 0) continue;
      rs.push(x.rate);
      rh.push(x.hand);
      ratios.push(x.rate / x.hand);
    }
    console.log(
      `  ${s.name.padEnd(28)} ${fmt(median(rs)).padStart(12)} rec/s  hand ${
        fmt(median(rh)).padStart(12)
      }  ratio ${median(ratios).toFixed(2)}x (runs ${Math.min(...ratios).toFixed(2)}-${
        Math.max(...ratios).toFixed(2)
      })`,
    );
  }
}

console.log(`bench:analytics (Deno ${Deno.version.deno}, ${quick ? "quick" : "full"} run)`);
bufferedPoints();
windowThroughput();
percentileThroughput();
sideBySide();
