/**
 * @module Tests of the percentile sketch (`sketch.ts`): hand-computed cases, edge cases
 * (negative values, zeros, one value, all equal, a range wider than its bins), merging panes,
 * and fast-check properties: every reported quantile within the stated relative error of the
 * exact one, alone and through the window step (sliding windows, sketch against `exact`).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { Batch, ManualClock } from "../../engine/plugin.ts";
import { createWindow } from "./mod.ts";
import { quantile } from "./panes.ts";
import { PaneSketches } from "./sketch.ts";

/** One pane (id 0) of key 0 holding `vals`, merged. */
function sketchOf(vals: number[], alpha = 0.01, panes = 1): PaneSketches {
  const s = new PaneSketches(alpha, Math.max(2, panes + 1));
  s.ensureKeys(1);
  vals.forEach((v, i) => s.add(0, i % panes, v));
  s.merge(0, 0, panes);
  return s;
}

/** The exact quantile and the error the sketch promises for it. */
function exactAndBound(vals: number[], q: number, alpha: number) {
  const sorted = Float64Array.from(vals).sort();
  const exact = quantile(Float64Array.from(vals), vals.length, q);
  const h = (vals.length - 1) * q, lo = Math.floor(h);
  const a = sorted[lo]!, b = sorted[Math.min(vals.length - 1, lo + 1)]!;
  const sameSign = (a >= 0 && b >= 0) || (a <= 0 && b <= 0);
  const bound = alpha * (sameSign ? Math.abs(exact) : Math.max(Math.abs(a), Math.abs(b)));
  // Plus floating-point rounding of the interpolation, relative to the neighbours (near 0
  // between -1 and 0, both sides cancel to about 1e-16 of them).
  const rounding = 4e-16 * Math.max(Math.abs(a), Math.abs(b));
  return { exact, bound: bound * (1 + 1e-9) + rounding + 1e-300 };
}

const minMax = (v: number[]) => [Math.min(...v), Math.max(...v)] as const;

Deno.test("sketch: a bucket's value is within α of every value in it (hand-computed)", () => {
  // α = 1 %: γ = 1.01/0.99; 100 falls in bucket k = ⌈ln 100 / ln γ⌉ = 231, reported as
  // 2γ^231/(γ+1) = 99.8...; a wide [min, max] leaves the clamp out.
  const s = sketchOf([1, 100, 1000]); // p50: rank 1, the middle one (ranks 0 and 2 are min, max)
  const g = 1.01 / 0.99;
  const k = Math.ceil(Math.log(100) / Math.log(g));
  assert.equal(k, 231);
  const reported = s.quantile(0.5, -Infinity, Infinity);
  assert.ok(Math.abs(reported - 2 * g ** k / (g + 1)) < 1e-9);
  assert.ok(Math.abs(reported - 100) <= 1, `${reported}`);
  // Clamped to the window's exact min and max, one value is exact.
  assert.equal(sketchOf([100]).quantile(0.5, 100, 100), 100);
});

Deno.test("sketch: 1..100 gives p50, p90, p99 within 1 % of PERCENTILE.INC", () => {
  const vals = Array.from({ length: 100 }, (_, i) => i + 1);
  const s = sketchOf(vals);
  // PERCENTILE.INC: p50 = 50.5, p90 = 90.1, p99 = 99.01.
  for (const [q, want] of [[0.5, 50.5], [0.9, 90.1], [0.99, 99.01]] as const) {
    const got = s.quantile(q, 1, 100);
    assert.ok(Math.abs(got - want) <= 0.01 * want, `p${q * 100}: ${got} vs ${want}`);
  }
  assert.equal(s.quantile(0, 1, 100), 1);
  assert.equal(s.quantile(1, 1, 100), 100);
});

Deno.test("sketch: negative values, zeros, one value and all-equal values", () => {
  const neg = [-50, -20, -10, -5, -1];
  const s = sketchOf(neg);
  const p50 = s.quantile(0.5, -50, -1);
  assert.ok(Math.abs(p50 - -10) <= 0.1, `${p50}`);
  assert.equal(s.quantile(0, -50, -1), -50);
  const z = sketchOf([0, 0, 0, 5]);
  assert.equal(z.quantile(0.5, 0, 5), 0);
  assert.equal(z.quantile(0.25, 0, 5), 0);
  const mixed = sketchOf([-3, 0, 0, 3]);
  assert.equal(mixed.quantile(0.5, -3, 3), 0);
  const one = sketchOf([42.42]);
  assert.equal(one.quantile(0.95, 42.42, 42.42), 42.42);
  const equal = sketchOf(Array(1000).fill(7.3));
  for (const q of [0, 0.5, 0.99, 1]) assert.equal(equal.quantile(q, 7.3, 7.3), 7.3);
  const empty = sketchOf([]);
  assert.ok(Number.isNaN(empty.quantile(0.5, Infinity, -Infinity)));
});

Deno.test("sketch: merging panes equals one sketch over all values", () => {
  const vals = Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 100 + (i % 7) - 3);
  const [mn, mx] = minMax(vals);
  const one = sketchOf(vals, 0.01, 1);
  const six = sketchOf(vals, 0.01, 6);
  for (const q of [0, 0.01, 0.25, 0.5, 0.75, 0.95, 0.99, 0.999, 1]) {
    assert.equal(six.quantile(q, mn, mx), one.quantile(q, mn, mx), `q ${q}`);
  }
});

Deno.test("sketch: a pane slot reused by a newer pane starts empty; old panes are not merged", () => {
  const s = new PaneSketches(0.01, 3);
  s.ensureKeys(2);
  s.add(1, 0, 1000); // pane 0, slot 0
  for (const v of [4, 5, 6]) s.add(1, 3, v); // pane 3 takes slot 0 over
  assert.equal(s.merge(1, 0, 1), 0);
  assert.equal(s.merge(1, 3, 1), 3);
  assert.ok(Math.abs(s.quantile(0.5, -Infinity, Infinity) - 5) <= 0.05);
  assert.equal(s.merge(0, 0, 3), 0); // key 0 never saw a value
});

Deno.test("sketch: a range wider than its bins keeps the high percentiles accurate", () => {
  const vals: number[] = [];
  for (let e = -150; e <= 150; e++) vals.push(10 ** e, 2 * 10 ** e);
  const s = sketchOf(vals, 0.01);
  assert.ok(s.collapsed > 0);
  assert.ok(s.bins <= 2 * s.maxBins, `bins ${s.bins}`);
  const [mn, mx] = minMax(vals);
  // The top 18 decades (1e132..2e150, the top 6 % of ranks) are kept at full accuracy.
  for (const q of [0.97, 0.99, 0.999, 1]) {
    const { exact, bound } = exactAndBound(vals, q, 0.01);
    assert.ok(Math.abs(s.quantile(q, mn, mx) - exact) <= bound, `q ${q}`);
  }
});

Deno.test("sketch: a typical signal needs few bins per pane", () => {
  // 20 ± 5 °C: ln(25/15)/ln γ ≈ 26 buckets.
  const vals = Array.from({ length: 100_000 }, (_, i) => 20 + 5 * Math.sin(i / 100));
  const s = sketchOf(vals, 0.01, 6);
  assert.ok(s.bins <= 7 * 32, `bins ${s.bins}`);
});

// Magnitudes from 1e-9 to 1e6 (inside the 18 decades a pane covers at full accuracy) and zeros.
const value = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.integer({ min: -100, max: 100 }),
  fc.constant(0),
  fc.double({ min: -1e-3, max: 1e-3, noNaN: true }),
).map((x) => Math.abs(x) < 1e-9 ? 0 : x);

Deno.test("sketch property: every quantile within the stated relative error of the exact one", () => {
  fc.assert(
    fc.property(
      fc.array(value, { minLength: 1, maxLength: 400 }),
      fc.constantFrom(0.01, 0.001, 0.05),
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
      (vals, alpha, panes, qs) => {
        const s = sketchOf(vals, alpha, panes);
        const [mn, mx] = minMax(vals);
        for (const q of [...qs, 0, 0.5, 0.95, 0.99, 1]) {
          const got = s.quantile(q, mn, mx);
          const { exact, bound } = exactAndBound(vals, q, alpha);
          if (!(Math.abs(got - exact) <= bound)) {
            throw new Error(`q ${q}: sketch ${got}, exact ${exact}, bound ${bound}`);
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("window property: sliding-window percentiles from the sketch are within 1 % of exact ones (positive values)", () => {
  const pts = fc.array(
    fc.record({
      tag: fc.integer({ min: 0, max: 2 }),
      dt: fc.integer({ min: 0, max: 2000 }),
      v: fc.oneof(fc.double({ min: 1e-3, max: 1e6, noNaN: true }), fc.integer({ min: 1, max: 9 })),
    }),
    { minLength: 1, maxLength: 300 },
  );
  fc.assert(
    fc.property(pts, (xs) => {
      const aggs = ["p50", "p95", "p99", "min", "max"] as ("p50" | "min")[];
      const mk = (percentiles: "sketch" | "exact") =>
        createWindow({ size: "10s", hop: "2s", aggregates: aggs, percentiles }, {
          clock: new ManualClock(0),
        });
      const sk = mk("sketch"), ex = mk("exact");
      const b = new Batch();
      let ts = 1_000_000;
      for (const x of xs) b.add("d", `t${x.tag}`, x.v, 0, undefined, ts += x.dt, 0, 0);
      b.add("d", "t0", 0, 0, undefined, ts + 100_000, 0, 0);
      const a = sk.process(b).toArray(), e = ex.process(b).toArray();
      assert.equal(a.length, e.length);
      for (let i = 0; i < a.length; i++) {
        const got = a[i]!.value as number, want = e[i]!.value as number;
        assert.equal(a[i]!.tag, e[i]!.tag);
        // Positive values: the bound is exactly α of the exact percentile.
        const bound = /p\d+$/.test(a[i]!.tag) ? 0.01 * want * (1 + 1e-9) : 0;
        assert.ok(Math.abs(got - want) <= bound, `${a[i]!.tag}: ${got} vs ${want}`);
      }
    }),
    { numRuns: 100 },
  );
});

Deno.test("window: count and session windows report sketch percentiles within 1 % of exact ones", () => {
  const vals = Array.from({ length: 200 }, (_, i) => 10 + ((i * 37) % 101) / 7);
  const configs = [
    { count: 50, countHop: 10 },
    { session: "5s" },
  ] as const;
  for (const c of configs) {
    const run = (percentiles: "sketch" | "exact") => {
      const w = createWindow({ ...c, aggregates: ["p10", "p50", "p99"], percentiles }, {
        clock: new ManualClock(0),
      });
      const b = new Batch();
      // Two sessions: 100 values 1 s apart, a 60 s gap, 100 more; then a far record closes.
      vals.forEach((v, i) =>
        b.add("d", "t", v, 0, undefined, i * 1000 + (i >= 100 ? 60_000 : 0), 0, 0)
      );
      b.add("d", "u", 0, 0, undefined, 10_000_000, 0, 0);
      return w.process(b).toArray().filter((r) => r.tag.startsWith("t."));
    };
    const sk = run("sketch"), ex = run("exact");
    assert.ok(sk.length >= 6, `${JSON.stringify(c)}: ${sk.length} records`);
    assert.equal(sk.length, ex.length);
    sk.forEach((r, i) => {
      const want = ex[i]!.value as number;
      assert.equal(r.tag, ex[i]!.tag);
      assert.ok(
        Math.abs((r.value as number) - want) <= 0.01 * want,
        `${r.tag}: ${r.value} vs ${want}`,
      );
    });
  }
});

/** A reference DDSketch: a Map of bucket counts per pane, no ranges to manage. */
function referenceQuantile(vals: number[], alpha: number, q: number): number {
  const g = (1 + alpha) / (1 - alpha), lg = Math.log(g);
  const keys = vals.map((v) =>
    v === 0 ? 0 : Math.sign(v) * (1e6 + Math.ceil(Math.log(Math.abs(v)) * (1 / lg)))
  ).sort((a, b) => a - b);
  const value = (k: number) =>
    k === 0 ? 0 : Math.sign(k) * 2 * Math.exp((Math.abs(k) - 1e6) * lg) / (1 + g);
  const n = keys.length, h = (n - 1) * q, r = Math.floor(h);
  const [mn, mx] = minMax(vals);
  const at = (i: number) => i === 0 ? mn : i === n - 1 ? mx : value(keys[i]!);
  let v = at(r);
  if (h > r) v += (h - r) * (at(r + 1) - v);
  return v < mn ? mn : v > mx ? mx : v;
}

Deno.test("sketch property: growing, moving and reusing pane slots gives what a plain map of buckets gives", () => {
  // Values that drift (the bins of a pane move both ways and grow), over panes that reuse
  // their ring slots; each window of 3 panes is compared with a reference over its values.
  const step = fc.record({
    pane: fc.integer({ min: 0, max: 2 }), // how far the pane id advances
    v: fc.oneof(
      fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
      fc.double({ min: -1e6, max: -1e-6, noNaN: true }),
      fc.constant(0),
      fc.integer({ min: 1, max: 50 }),
    ),
  });
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 500 }), fc.constantFrom(0.01, 0.002), (
      steps,
      alpha,
    ) => {
      const ring = 4, per = 3;
      const s = new PaneSketches(alpha, ring);
      s.ensureKeys(1);
      const byPane = new Map<number, number[]>();
      let pane = 0;
      for (const x of steps) {
        pane += x.pane;
        s.add(0, pane, x.v);
        byPane.set(pane, [...byPane.get(pane) ?? [], x.v]);
      }
      // The windows still held by the ring: the last `per` panes.
      const first = Math.max(0, pane - per + 1);
      const vals: number[] = [];
      for (let p = first; p <= pane; p++) vals.push(...byPane.get(p) ?? []);
      assert.equal(s.merge(0, first, per), vals.length);
      const [mn, mx] = minMax(vals);
      for (const q of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1]) {
        const want = referenceQuantile(vals, alpha, q);
        const got = s.quantile(q, mn, mx);
        assert.ok(
          Math.abs(got - want) <=
            1e-9 * Math.abs(want) + 1e-15 * Math.max(Math.abs(mn), Math.abs(mx)) + 1e-300,
          `q ${q}: ${got} vs reference ${want}`,
        );
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("window: sketch percentiles hold bounded state whatever the record count", () => {
  // 100 tags at 10 Hz into a 1-minute window sliding every 10 s: the state after 6 minutes of
  // data (the signal's whole range seen) is the state after 12: bins and panes are reused,
  // nothing grows per record. (Bins grow with a pane's range of values, not its count.)
  const w = createWindow({ size: "1m", hop: "10s", aggregates: ["p50", "p99"] }, {
    clock: new ManualClock(0),
  });
  const b = new Batch(100);
  for (let k = 0; k < 100; k++) b.add("plc", `t${k}`, 0, 0, undefined, 0, 0, 0);
  let bytesAt6m = 0, windows = 0;
  for (let i = 0; i < 12 * 600; i++) {
    for (let k = 0; k < 100; k++) {
      b.num[k] = 20 + k + 5 * Math.sin(i / 50 + k) + (i % 7) / 10;
      b.sourceTs[k] = 1_700_000_000_000 + i * 100;
    }
    windows += w.process(b).length;
    if (i === 6 * 600) bytesAt6m = w.stateBytes();
  }
  assert.ok(windows > 0);
  assert.equal(w.stats().records, 12 * 600 * 100);
  assert.equal(w.stateBytes(), bytesAt6m, "no growth after the first windows");
  assert.ok(bytesAt6m / 100 < 4096, `${bytesAt6m / 100} bytes per tag`);
});
