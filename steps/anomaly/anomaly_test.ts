/** @module Tests of the anomaly step against hand-computed scores. */

import assert from "node:assert/strict";
import { Batch, type DataRecord } from "../../engine/plugin.ts";
import { type AnomalyConfig, createAnomaly, validateAnomaly } from "./mod.ts";

const rec = (ts: number, value: number, extra: Partial<DataRecord> = {}) =>
  ({
    device: "d",
    tag: "t",
    value,
    quality: "good",
    sourceTs: ts,
    gatewayTs: ts,
    seq: 1,
    ...extra,
  }) as DataRecord;

/** Feeds values one a second; returns `second:score` of the records out. */
function scores(config: AnomalyConfig, values: number[]): string[] {
  const step = createAnomaly(config);
  const b = Batch.from(values.map((v, i) => rec(i * 1000, v)));
  return step.process(b).toArray().map((r) =>
    `${r.sourceTs / 1000}:${+(r.value as number).toFixed(4)}`
  );
}

Deno.test("anomaly zscore judges a value against the previous window", () => {
  // History 2,4,4,4,5,5,7,9: mean 5, sample stddev sqrt(32/7) = 2.138; 20 scores 7.016.
  const got = scores({ method: "zscore", window: 8, threshold: 3 }, [2, 4, 4, 4, 5, 5, 7, 9, 20]);
  assert.deepEqual(got, [`8:${+(15 / Math.sqrt(32 / 7)).toFixed(4)}`]);
  // emit: all gives a score for every judged value (from the 9th on).
  const all = scores({ method: "zscore", window: 8, emit: "all" }, [2, 4, 4, 4, 5, 5, 7, 9, 5, 4]);
  assert.equal(all.length, 2);
  assert.equal(all[0], "8:0");
});

Deno.test("anomaly zscore keeps exact after the window has rolled many times", () => {
  const values = Array.from({ length: 10_000 }, (_, i) => 1e6 + (i % 2)); // mean 1e6+0.5
  values.push(1e6 + 0.5);
  const got = scores({ method: "zscore", window: 10, emit: "all" }, values);
  assert.equal(got.at(-1), "10000:0");
});

Deno.test("anomaly mad is robust to an outlier in its history", () => {
  // History 10,11,12,13,100: median 12, deviations 2,1,0,1,88 → MAD 1; 16 scores 0.6745*4.
  const got = scores({ method: "mad", window: 5, threshold: 2 }, [10, 11, 12, 13, 100, 16]);
  assert.deepEqual(got, [`5:${+(0.6745 * 4).toFixed(4)}`]);
});

Deno.test("anomaly ewma flags a step beyond its control limits after warm-up", () => {
  const values = [...Array.from({ length: 20 }, (_, i) => 50 + (i % 2 ? 1 : -1)), 60];
  const got = scores({ method: "ewma", window: 20, alpha: 0.1, threshold: 3 }, values);
  assert.equal(got.length, 1);
  assert.ok(got[0]!.startsWith("20:"));
  // Warm-up over 20 values of ±1 around 50: variance 20/20 = 1 → score of 60 is 10.
  assert.equal(got[0], "20:10");
});

Deno.test("anomaly flatline reports a stuck value once per episode", () => {
  const got = scores({ method: "flatline", duration: "3s", tolerance: 0.01 }, [
    5,
    5,
    5.005,
    5,
    5,
    5,
    6,
    6,
    6,
    6,
  ]);
  assert.deepEqual(got, ["3:3", "9:3"]);
});

Deno.test("anomaly range scores the distance outside the physical range", () => {
  assert.deepEqual(scores({ method: "range", min: 0, max: 100 }, [50, -5, 100, 130]), [
    "1:5",
    "3:30",
  ]);
});

Deno.test("anomaly skips bad inputs and counts them", () => {
  const step = createAnomaly({ method: "range", max: 1 });
  const out = step.process(Batch.from([rec(0, 9, { quality: "bad" }), rec(1, 0)]));
  assert.equal(out.length, 0);
  assert.deepEqual(step.stats(), { judged: 1, anomalies: 0, bad: 1 });
});

Deno.test("anomaly validate asks for each method's own fields", () => {
  const paths = (c: AnomalyConfig) => validateAnomaly(c).map((i) => i.path.join("/"));
  assert.deepEqual(paths({ method: "flatline" }), ["method"]);
  assert.deepEqual(paths({ method: "range" }), ["method"]);
  assert.deepEqual(paths({ method: "zscore", alpha: 0.5 }), ["alpha"]);
  assert.deepEqual(paths({ method: "range", min: 5, max: 1 }), ["min"]);
});
