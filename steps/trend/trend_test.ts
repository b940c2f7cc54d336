/** @module Tests of the trend step against hand-computed fits. */

import assert from "node:assert/strict";
import { Batch, type DataRecord } from "../../engine/plugin.ts";
import { createTrend, type TrendConfig, validateTrend } from "./mod.ts";

const rec = (ts: number, value: number, extra: Partial<DataRecord> = {}) =>
  ({
    device: "d",
    tag: "level",
    value,
    quality: "good",
    sourceTs: ts,
    gatewayTs: ts,
    seq: 1,
    ...extra,
  }) as DataRecord;

function run(config: TrendConfig, pts: [number, number][]): string[] {
  const step = createTrend(config);
  const out = step.process(Batch.from(pts.map(([t, v]) => rec(t, v))));
  return out.toArray().map((r) => `${r.tag}@${r.sourceTs}=${+(r.value as number).toFixed(6)}`);
}

Deno.test("trend fits the least-squares slope per unit of time", () => {
  // 1, 3, 2, 4 at 0, 60, 120, 180 s: slope 0.8 per minute (hand-computed: Sxy 3, Sxx 3.75 min²).
  const got = run({ window: "10m", unit: "m", minPoints: 4 }, [[0, 1], [60_000, 3], [120_000, 2], [
    180_000,
    4,
  ]]);
  assert.deepEqual(got, ["level.slope@180000=0.8"]);
});

Deno.test("trend reports the time until the threshold: a tank full in 42 minutes", () => {
  // Rising 1 %/min, at 53 % now: 95 % in 42 min.
  const pts: [number, number][] = Array.from({ length: 11 }, (_, i) => [i * 60_000, 43 + i]);
  const got = run({ window: "15m", threshold: 95 }, pts);
  assert.equal(got.at(-2), "level.slope@600000=1");
  assert.equal(got.at(-1), "level.ttt@600000=42");
  // Falling away from the threshold: slope only.
  const away = run({ window: "15m", threshold: 95 }, pts.map(([t, v]) => [t, 100 - v]));
  assert.ok(away.every((s) => s.startsWith("level.slope")));
});

Deno.test("trend forgets points older than the window", () => {
  // A step change: after the window passes, only the flat part is fitted (slope 0).
  const pts: [number, number][] = [[0, 0], [1000, 100], [2000, 100], [3000, 100], [4000, 100]];
  const got = run({ window: "2s", unit: "s" }, pts);
  assert.equal(got.at(-1), "level.slope@4000=0");
});

Deno.test("trend stays exact over a long run (sums recomputed)", () => {
  const pts: [number, number][] = Array.from({ length: 5000 }, (_, i) => [i * 1000, 1e6 + 0.5 * i]);
  const got = run({ window: "1m", unit: "s" }, pts);
  assert.equal(got.at(-1), "level.slope@4999000=0.5");
});

Deno.test("trend skips bad and out-of-order points and counts them", () => {
  const step = createTrend({ window: "1m" });
  step.process(Batch.from([rec(1000, 1), rec(500, 2), rec(2000, 3, { quality: "bad" })]));
  assert.deepEqual(step.stats(), { points: 1, bad: 1, outOfOrder: 1 });
});

Deno.test("trend validate rejects an empty window", () => {
  assert.deepEqual(validateTrend({ window: "0s" }).map((i) => i.path), [["window"]]);
});
