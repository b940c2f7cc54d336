/** @module Tests of the filter step. */

import assert from "node:assert/strict";
import { Batch, type DataRecord, type Value } from "../../engine/plugin.ts";
import { createFilter, filterStep } from "./mod.ts";

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
const keys = (b: Batch) => b.toArray().map((r) => `${r.device}/${r.tag}`);

const sample = () =>
  Batch.from([
    rec("plc", "temp1", 50),
    rec("plc", "temp2", 150),
    rec("plc", "flow", 10),
    rec("meter", "temp1", 20, { quality: "uncertain" }),
    rec("meter", "power", 0, { quality: "bad", reason: "timeout" }),
    rec("plc", "mode", "auto"),
  ]);

Deno.test("filter keeps records matching tag and device globs", () => {
  const out = createFilter({ tags: ["temp*"], devices: ["pl?"] }).process(sample()) as Batch;
  assert.deepEqual(keys(out), ["plc/temp1", "plc/temp2"]);
});

Deno.test("filter keeps the listed qualities", () => {
  const out = createFilter({ quality: ["uncertain", "bad"] }).process(sample()) as Batch;
  assert.deepEqual(keys(out), ["meter/temp1", "meter/power"]);
});

Deno.test("filter range drops numbers outside min..max and lets non-numeric and bad records through", () => {
  const out = createFilter({ min: 0, max: 100 }).process(sample()) as Batch;
  assert.deepEqual(keys(out), ["plc/temp1", "plc/flow", "meter/temp1", "meter/power", "plc/mode"]);
});

Deno.test("filter combines conditions with and, and invert keeps the rest", () => {
  const kept = createFilter({ tags: ["temp*"], quality: ["good"], max: 100 }).process(sample());
  assert.deepEqual(keys(kept as Batch), ["plc/temp1"]);
  const dropped = createFilter({ tags: ["temp*"], quality: ["good"], max: 100, invert: true })
    .process(sample()) as Batch;
  assert.deepEqual(keys(dropped), [
    "plc/temp2",
    "plc/flow",
    "meter/temp1",
    "meter/power",
    "plc/mode",
  ]);
  assert.equal(dropped.get(3).reason, "timeout");
});

Deno.test("filter validate rejects min above max", () => {
  const issues = filterStep.validate!({ min: 5, max: 1 }, { flowDir: ".", file: "f" }) as {
    path: unknown[];
  }[];
  assert.deepEqual(issues.map((i) => i.path), [["min"]]);
});
