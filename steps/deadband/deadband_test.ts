/** @module Tests of the deadband step. */

import assert from "node:assert/strict";
import { Batch, type DataRecord, type Value } from "../../engine/plugin.ts";
import { createDeadband, deadbandStep } from "./mod.ts";

const rec = (device: string, tag: string, value: Value, extra: Partial<DataRecord> = {}) =>
  ({
    device,
    tag,
    value,
    quality: "good",
    sourceTs: 1,
    gatewayTs: 1,
    seq: 1,
    ...extra,
  }) as DataRecord;
const values = (b: Batch) => b.toArray().map((r) => r.value);

/** Feeds one record a batch and returns the values that passed. */
function run(step: { process(b: Batch): Batch | Promise<Batch> }, records: DataRecord[]): Value[] {
  const out: Value[] = [];
  for (const r of records) out.push(...values(step.process(Batch.from([r])) as Batch));
  return out;
}

Deno.test("deadband passes a change larger than the band and holds smaller ones", () => {
  const step = createDeadband({ absolute: 0.5 });
  const got = run(step, [10, 10.3, 10.5, 10.6, 10.2, 11.2].map((v) => rec("d", "t", v)));
  // 10 (first), 10.6 (>0.5 from 10), 11.2 (>0.5 from 10.6); 10.5 is not more than 0.5.
  assert.deepEqual(got, [10, 10.6, 11.2]);
});

Deno.test("deadband keeps one memory per device and tag", () => {
  const step = createDeadband({ absolute: 1 });
  const b = Batch.from([rec("a", "t", 1), rec("b", "t", 1), rec("a", "u", 1)]);
  assert.equal((step.process(b) as Batch).length, 3);
  const b2 = Batch.from([rec("a", "t", 1.5), rec("b", "t", 5), rec("a", "u", 1.2)]);
  const out = step.process(b2) as Batch;
  assert.deepEqual(out.toArray().map((r) => `${r.device}/${r.tag}=${r.value}`), ["b/t=5"]);
  assert.deepEqual([...step.state.entries()].map(([k]) => k).sort(), ["a/t", "a/u", "b/t"]);
});

Deno.test("deadband with percent compares against the last reported value", () => {
  const step = createDeadband({ percent: 10 });
  const got = run(step, [100, 105, 109, 111, 120, 123].map((v) => rec("d", "t", v)));
  assert.deepEqual(got, [100, 111, 123]);
});

Deno.test("deadband without a band passes every change and holds repeats", () => {
  const step = createDeadband({});
  const got = run(step, [1, 1, 2, 2, 1, NaN, NaN, 3].map((v) => rec("d", "t", v)));
  assert.deepEqual(got, [1, 2, 1, NaN, 3]);
});

Deno.test("deadband passes quality changes, reason changes and kind changes", () => {
  const step = createDeadband({ absolute: 100 });
  const got = run(step, [
    rec("d", "t", 1),
    rec("d", "t", 1, { quality: "bad", reason: "timeout" }),
    rec("d", "t", 1, { quality: "bad", reason: "timeout" }),
    rec("d", "t", 1, { quality: "bad", reason: "refused" }),
    rec("d", "t", 1, { quality: "uncertain" }),
    rec("d", "t", 1),
    rec("d", "t", "text"),
  ]);
  assert.deepEqual(got, [1, 1, 1, 1, 1, "text"]);
});

Deno.test("deadband passes non-numeric values on change only", () => {
  const step = createDeadband({ absolute: 5 });
  const got = run(step, [
    rec("d", "on", true),
    rec("d", "on", true),
    rec("d", "on", false),
    rec("d", "s", "a"),
    rec("d", "s", "a"),
    rec("d", "s", "b"),
    rec("d", "j", { x: [1, 2] }),
    rec("d", "j", { x: [1, 2] }),
    rec("d", "j", { x: [1, 3] }),
    rec("d", "n", null),
    rec("d", "n", null),
  ]);
  assert.deepEqual(got, [true, false, "a", "b", { x: [1, 2] }, { x: [1, 3] }, null]);
});

Deno.test("deadband heartbeat passes an unchanged value once the interval has elapsed", () => {
  const step = createDeadband({ absolute: 1, heartbeat: "10s" });
  const at = (ts: number) => rec("d", "t", 5, { gatewayTs: ts });
  const got = run(step, [at(0), at(5_000), at(9_999), at(10_000), at(15_000), at(20_000)]);
  assert.equal(got.length, 3); // at 0, 10,000 and 20,000
});

Deno.test("deadband drops held records in place and keeps the order of the rest", () => {
  const step = createDeadband({ absolute: 1 });
  step.process(Batch.from([rec("d", "a", 0), rec("d", "b", 0), rec("d", "c", 0)]));
  const b = Batch.from([
    rec("d", "a", 0.5, { seq: 1 }),
    rec("d", "b", 5, { seq: 2, reason: "x", quality: "uncertain" }),
    rec("d", "c", 0.2, { seq: 3 }),
    rec("d", "a", 3, { seq: 4 }),
  ]);
  const out = step.process(b) as Batch;
  assert.equal(out, b);
  assert.deepEqual(out.toArray(), [
    rec("d", "b", 5, { seq: 2, reason: "x", quality: "uncertain" }),
    rec("d", "a", 3, { seq: 4 }),
  ]);
});

Deno.test("deadband leaves records outside its tags alone", () => {
  const step = createDeadband({ absolute: 10, tags: ["temp*"] });
  const got = run(step, [
    rec("d", "temp1", 1),
    rec("d", "temp1", 2),
    rec("d", "flow", 1),
    rec("d", "flow", 1),
  ]);
  assert.deepEqual(got, [1, 1, 1]);
});

Deno.test("deadband validate rejects a zero heartbeat", () => {
  const issues = deadbandStep.validate!({ heartbeat: "0s" }, { flowDir: ".", file: "f" }) as {
    path: unknown[];
  }[];
  assert.deepEqual(issues.map((i) => i.path), [["heartbeat"]]);
});
