/** @module Tests of the console sink. */

import assert from "node:assert/strict";
import { Batch, type DataRecord, isBifrostError } from "../../engine/plugin.ts";
import { createConsoleSink, readableNumber } from "./mod.ts";

const T = Date.parse("2026-11-28T10:00:00.123Z");
const rec = (extra: Partial<DataRecord>): DataRecord => ({
  device: "boiler-plc",
  tag: "temp1",
  value: 71.3,
  quality: "good",
  sourceTs: T,
  gatewayTs: T + 2,
  seq: 7,
  ...extra,
});

async function capture(format: "text" | "json", records: DataRecord[]): Promise<string[]> {
  const chunks: string[] = [];
  const sink = createConsoleSink({ format }, { name: "console" }, (t) => {
    chunks.push(t);
  });
  await sink.open();
  await sink.write(Batch.from(records));
  await sink.close();
  assert.equal(chunks.length, 1, "one write a batch");
  assert.equal(sink.stats().written, records.length);
  return chunks[0]!.split("\n").slice(0, -1);
}

Deno.test("console prints a good value as time, device/tag, value and quality", async () => {
  assert.deepEqual(await capture("text", [rec({})]), [
    "2026-11-28T10:00:00.123Z boiler-plc/temp1 = 71.3 good",
  ]);
});

Deno.test("console prints a bad value as a dash with its reason", async () => {
  const lines = await capture("text", [
    rec({ value: null, quality: "bad", reason: "Cannot read HR0: timeout" }),
    rec({ tag: "mode", value: "auto", quality: "uncertain", reason: "stale" }),
    rec({ tag: "on", value: true }),
  ]);
  assert.deepEqual(lines, [
    "2026-11-28T10:00:00.123Z boiler-plc/temp1 = — bad (Cannot read HR0: timeout)",
    '2026-11-28T10:00:00.123Z boiler-plc/mode = "auto" uncertain (stale)',
    "2026-11-28T10:00:00.123Z boiler-plc/on = true good",
  ]);
});

Deno.test("console json format writes one parsable object a line", async () => {
  const records = [
    rec({}),
    rec({ value: null, quality: "bad", reason: 'say "timeout"' }),
    rec({ value: { a: [1, "x"] } }),
  ];
  const lines = await capture("json", records);
  assert.deepEqual(lines.map((l) => JSON.parse(l)), records);
  const big = await capture("json", [rec({ value: 12n }), rec({ value: NaN })]);
  assert.deepEqual(big.map((l) => JSON.parse(l).value), ["12", "NaN"]);
});

Deno.test("console turns a failing writer into SINK_FAILED", async () => {
  const sink = createConsoleSink({}, { name: "out" }, () => {
    throw new Error("broken pipe");
  });
  await assert.rejects(
    sink.write(Batch.from([rec({})])),
    (e) => isBifrostError(e, "SINK_FAILED") && /console sink "out": broken pipe/.test(e.message),
  );
});

Deno.test("readableNumber() shows float32 values as their shortest float32 decimal", () => {
  assert.equal(readableNumber(Math.fround(70.42294)), "70.42294");
  assert.equal(readableNumber(Math.fround(0.1)), "0.1");
  assert.equal(readableNumber(158.76129760742188), "158.7612976");
  assert.equal(readableNumber(12.34), "12.34");
  assert.equal(readableNumber(123456789), "123456789");
  assert.equal(readableNumber(NaN), "NaN");
});
