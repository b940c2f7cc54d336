/** @module Tests of the scale step. */

import assert from "node:assert/strict";
import { Batch, type DataRecord, type Value } from "../../engine/plugin.ts";
import { createScale, scaleStep } from "./mod.ts";

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

Deno.test("scale applies gain and offset to every numeric value by default", () => {
  const b = Batch.from([rec("plc", "t1", 100), rec("plc", "t2", 0)]);
  const out = createScale({ gain: 1.8, offset: 32 }).process(b) as Batch;
  assert.deepEqual(values(out), [212, 32]);
});

Deno.test("scale applies only to the tags and devices selected, with globs", () => {
  const b = Batch.from([
    rec("plc", "temp1", 10),
    rec("plc", "pressure", 10),
    rec("other", "temp2", 10),
    rec("plc", "temp22", 10),
  ]);
  const out = createScale({ tags: ["temp*"], devices: ["plc"], gain: 2 }).process(b) as Batch;
  assert.deepEqual(values(out), [20, 10, 10, 20]);
});

Deno.test("scale maps two points and clamps", () => {
  const b = Batch.from([rec("d", "a", 13824), rec("d", "a", 30000), rec("d", "a", -100)]);
  const out = createScale({
    rawMin: 0,
    rawMax: 27648,
    engMin: 0,
    engMax: 100,
    clampMin: 0,
    clampMax: 100,
  }).process(b) as Batch;
  assert.deepEqual(values(out), [50, 100, 0]);
});

Deno.test("scale leaves non-numeric values and bad records unchanged", () => {
  const b = Batch.from([
    rec("d", "on", true),
    rec("d", "name", "pump"),
    rec("d", "t", 5, { quality: "bad", reason: "timeout" }),
    rec("d", "t", 5, { quality: "uncertain" }),
  ]);
  const out = createScale({ gain: 10 }).process(b) as Batch;
  assert.deepEqual(values(out), [true, "pump", 5, 50]);
});

Deno.test("scale validate reports an incomplete two-point set by field", () => {
  const issues = scaleStep.validate!({ rawMin: 0, rawMax: 10, engMin: 0 }, {
    flowDir: ".",
    file: "f.yaml",
  }) as { path: unknown[]; message: string }[];
  assert.equal(issues.length, 1);
  assert.deepEqual(issues[0]!.path, ["engMax"]);
  assert.match(issues[0]!.message, /without engMax/);
});
