/** @module The edge node model: aliases, births, DDATA grouping, added and re-typed metrics. */

import assert from "node:assert/strict";
import { Batch, type DataRecord, nullLogger } from "../../engine/plugin.ts";
import { NodeModel } from "./model.ts";
import { DataType } from "./payload.ts";

const rec = (
  tag: string,
  value: DataRecord["value"],
  extra: Partial<DataRecord> = {},
): DataRecord => ({
  device: "d/1",
  tag,
  value,
  quality: "good",
  sourceTs: 10,
  gatewayTs: 10,
  seq: 1,
  ...extra,
});

function model(): NodeModel {
  return new NodeModel(
    new Map([["d/1", [
      { name: "a", type: "int16", writable: false },
      { name: "b", type: "bool", writable: true },
    ]]]),
    nullLogger,
  );
}

Deno.test("model splits DDATA on a repeated metric and marks historical records", () => {
  const m = model();
  const b = Batch.from([rec("a", 1), rec("b", true), rec("a", 2), rec("a", 3, { quality: "bad" })]);
  const msgs = m.dataMessages(b, (i) => i < 2, 500);
  assert.equal(msgs.length, 3);
  assert.equal(msgs[0]!.device.id, "d_1");
  assert.deepEqual(msgs.map((x) => x.metrics.map((y) => [y.alias, y.value, y.isHistorical])), [
    [[1, 1, true], [2, true, true]],
    [[1, 2, undefined]],
    [[1, null, undefined]],
  ]);
});

Deno.test("model adds unknown tags and re-types a scaled integer tag, bumping the version", () => {
  const m = model();
  const v0 = m.version;
  m.remember(Batch.from([rec("a", 12.5), rec("new", "text")]));
  assert.equal(m.version, v0 + 2);
  const d = m.devices.get("d/1")!;
  assert.equal(d.metrics.get("a")!.datatype, DataType.Double);
  assert.equal(d.metrics.get("new")!.datatype, DataType.String);
  assert.equal(d.metrics.get("new")!.alias, 3);
  const birth = m.birthMetrics(d, 99);
  assert.deepEqual(birth.map((x) => [x.name, x.value]), [["a", 12.5], ["b", null], [
    "new",
    "text",
  ]]);
  assert.equal(m.resolve(d, { alias: 2, datatype: 11 })!.tag, "b");
  assert.equal(m.resolve(d, { name: "a", datatype: 10 })!.tag, "a");
});
