/** @module Tests of the window step against hand-computed windows. */

import assert from "node:assert/strict";
import { Batch, type DataRecord, ManualClock, type Value } from "../../engine/plugin.ts";
import { createWindow, validateWindow, type WindowConfig } from "./mod.ts";

const rec = (tag: string, ts: number, value: Value, extra: Partial<DataRecord> = {}) =>
  ({
    device: "plc",
    tag,
    value,
    quality: "good",
    sourceTs: ts,
    gatewayTs: ts,
    seq: 1,
    ...extra,
  }) as DataRecord;

/** Runs records one batch each; returns `tag@ts=value` of the outputs. */
function run(config: WindowConfig, records: DataRecord[]): DataRecord[] {
  const step = createWindow(config, { clock: new ManualClock(0) });
  const out: DataRecord[] = [];
  for (const r of records) out.push(...step.process(Batch.from([r])).toArray());
  return out;
}
const short = (rs: DataRecord[]) =>
  rs.map((r) =>
    `${r.tag}@${r.sourceTs}=${typeof r.value === "number" ? +r.value.toFixed(6) : r.value}`
  );

Deno.test("window tumbling by time reports every aggregate of a closed window", () => {
  const aggs = [
    "mean",
    "min",
    "max",
    "sum",
    "count",
    "first",
    "last",
    "stddev",
    "range",
    "delta",
    "rate",
    "twa",
    "p50",
  ] as WindowConfig["aggregates"];
  // 2, 4, 4, 4, 5, 5, 7, 9 at 0..7 s: mean 5, sample stddev sqrt(32/7).
  const vals = [2, 4, 4, 4, 5, 5, 7, 9];
  const got = run(
    { size: "10s", aggregates: aggs },
    [...vals.map((v, i) => rec("t", i * 1000, v)), rec("t", 10_000, 0)],
  );
  const byAgg = Object.fromEntries(got.map((r) => [r.tag, r.value as number]));
  assert.equal(byAgg["t.mean"], 5);
  assert.equal(byAgg["t.min"], 2);
  assert.equal(byAgg["t.max"], 9);
  assert.equal(byAgg["t.sum"], 40);
  assert.equal(byAgg["t.count"], 8);
  assert.equal(byAgg["t.first"], 2);
  assert.equal(byAgg["t.last"], 9);
  assert.ok(Math.abs(byAgg["t.stddev"]! - Math.sqrt(32 / 7)) < 1e-12);
  assert.equal(byAgg["t.range"], 7);
  assert.equal(byAgg["t.delta"], 7);
  assert.equal(byAgg["t.rate"], 1); // 7 over 7 s
  // Trapezoids: (2+4)/2 + 4 + 4 + 4.5 + 5 + 6 + 8 = 34.5 over 7 s.
  assert.ok(Math.abs(byAgg["t.twa"]! - 34.5 / 7) < 1e-12);
  // The default sketch: within 1 % of the exact 4.5 (between ranks 3 and 4: 4 and 5).
  assert.ok(Math.abs(byAgg["t.p50"]! - 4.5) <= 0.01 * 4.5, `p50 ${byAgg["t.p50"]}`);
  assert.ok(got.every((r) => r.sourceTs === 10_000 && r.quality === "good"));
  const exact = run(
    { size: "10s", aggregates: ["p50", "p0", "p100"], percentiles: "exact" },
    [...vals.map((v, i) => rec("t", i * 1000, v)), rec("t", 10_000, 0)],
  );
  assert.deepEqual(exact.map((r) => `${r.tag}=${r.value}`), ["t.p50=4.5", "t.p0=2", "t.p100=9"]);
});

Deno.test("window integral turns kW sampled each minute into kWh", () => {
  // 60 kW flat for one hour, sampled every minute from 0 to 60 min: 60 kWh.
  const recs = Array.from({ length: 61 }, (_, i) => rec("kw", i * 60_000, 60));
  const got = run({ size: "2h", aggregates: ["integral"] }, [...recs, rec("kw", 7_200_000, 0)]);
  assert.deepEqual(short(got), ["kw.integral@7200000=60"]);
});

Deno.test("window sliding windows overlap and close on each hop", () => {
  const recs = [1, 2, 3, 4, 5, 6].map((v, i) => rec("t", i * 1000, v));
  const got = run({ size: "3s", hop: "1s", aggregates: ["sum"] }, [...recs, rec("t", 9000, 0)]);
  // Windows [-2,1) [-1,2) [0,3) [1,4) [2,5) [3,6) [4,7) [5,8).
  assert.deepEqual(short(got), [
    "t.sum@1000=1",
    "t.sum@2000=3",
    "t.sum@3000=6",
    "t.sum@4000=9",
    "t.sum@5000=12",
    "t.sum@6000=15",
    "t.sum@7000=11",
    "t.sum@8000=6",
  ]);
});

Deno.test("window excludes bad inputs, counts them and says so in the quality", () => {
  const got = run({ size: "10s", aggregates: ["mean", "count"] }, [
    rec("t", 0, 10),
    rec("t", 1000, 999, { quality: "bad", reason: "timeout" }),
    rec("t", 2000, 20, { quality: "uncertain" }),
    rec("u", 0, 1, { quality: "bad" }),
    rec("t", 10_000, 0),
  ]);
  const t = got.filter((r) => r.tag.startsWith("t."));
  assert.deepEqual(t.map((r) => r.value), [15, 2]);
  assert.equal(t[0]!.quality, "uncertain");
  assert.equal(t[0]!.reason, "1 bad inputs excluded, 1 uncertain inputs");
  const u = got.filter((r) => r.tag.startsWith("u."));
  assert.equal(u[0]!.quality, "bad");
  assert.equal(u[0]!.reason, "all 1 inputs bad");
});

Deno.test("window drops records older than every open window and counts them as late", () => {
  const step = createWindow({ size: "10s", aggregates: ["count"], lateness: "2s" });
  step.process(Batch.from([rec("t", 1000, 1), rec("t", 11_000, 1)]));
  // 11 s - 2 s lateness has not passed 10 s: a record at 5 s still counts.
  step.process(Batch.from([rec("t", 5000, 1)]));
  const out = step.process(Batch.from([rec("t", 12_500, 1)])).toArray();
  assert.deepEqual(short(out), ["t.count@10000=2"]);
  step.process(Batch.from([rec("t", 9000, 1)])); // its window closed: late
  assert.equal(step.stats().late, 1);
  assert.equal(step.stats().records, 5);
});

Deno.test("window count windows close every countHop records per key", () => {
  const recs = [1, 2, 3, 4, 5, 6].map((v, i) => rec("t", i, v));
  const got = run({ count: 4, countHop: 2, aggregates: ["sum"] }, recs);
  assert.deepEqual(got.map((r) => r.value), [10, 18]);
});

Deno.test("window session windows close after a gap", () => {
  const step = createWindow({ session: "5s", aggregates: ["count", "first", "last"] });
  const o1 = step.process(Batch.from([rec("t", 0, 1), rec("t", 2000, 2), rec("t", 4000, 3)]));
  assert.equal(o1.length, 0);
  const o2 = step.process(Batch.from([rec("t", 20_000, 9)]));
  assert.deepEqual(short(o2.toArray()), ["t.count@4000=3", "t.first@4000=1", "t.last@4000=3"]);
  // A record of another tag moves the watermark past the second session's gap.
  const o3 = step.process(Batch.from([rec("u", 26_000, 0)]));
  assert.deepEqual(short(o3.toArray()), ["t.count@20000=1", "t.first@20000=9", "t.last@20000=9"]);
});

Deno.test("window group pools tags of a device under one name", () => {
  const got = run({ size: "10s", aggregates: ["max"], group: "zone", output: "{tag}_{agg}" }, [
    rec("a", 0, 1),
    rec("b", 0, 7),
    rec("c", 0, 3),
    rec("a", 10_000, 0),
  ]);
  assert.deepEqual(short(got), ["zone_max@10000=7"]);
});

Deno.test("window skips strings and counts them", () => {
  const step = createWindow({ size: "1s", aggregates: ["count"] });
  step.process(Batch.from([rec("t", 0, "x"), rec("t", 0, 1), rec("t", 0, true)]));
  const out = step.process(Batch.from([rec("t", 1000, 0)]));
  assert.equal(out.get(0).value, 2);
  assert.equal(step.stats().skipped, 1);
});

Deno.test("window validate rejects missing or conflicting lengths and bad hops", () => {
  const msgs = (c: WindowConfig) => validateWindow(c).map((i) => i.message);
  assert.match(msgs({})[0]!, /without a length/);
  assert.match(msgs({ size: "1m", count: 5 })[0]!, /both size and count/);
  assert.match(msgs({ size: "1m", hop: "2m" })[0]!, /longer than size/);
  assert.match(msgs({ count: 10, countHop: 3 })[0]!, /must divide/);
  assert.deepEqual(msgs({ size: "1m", hop: "10s" }), []);
});

Deno.test("window: percentile options that do not apply are reported", () => {
  assert.match(
    validateWindow({ size: "1m", aggregates: ["p95"], maxPoints: 10 })[0]!.message,
    /Cannot use maxPoints with sketch percentiles .* set percentiles: exact/,
  );
  assert.deepEqual(
    validateWindow({ size: "1m", aggregates: ["p95"], maxPoints: 10, percentiles: "exact" }),
    [],
  );
  const e = validateWindow({
    size: "1m",
    aggregates: ["p95"],
    percentiles: "exact",
    percentileAccuracy: 0.01,
  });
  assert.deepEqual(e.map((i) => i.path), [["percentileAccuracy"]]);
  assert.deepEqual(
    validateWindow({ size: "1m", aggregates: ["p95"], percentileAccuracy: 0.001 }),
    [],
  );
});
