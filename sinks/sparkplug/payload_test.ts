/**
 * @module
 * The Sparkplug B codec against an independent one: Eclipse Tahu's `sparkplug-payload`
 * (protobuf.js). Every datatype is encoded by both and compared byte for byte, and each
 * side decodes the other's bytes.
 */

import assert from "node:assert/strict";
import "./_tahu_long.ts";
import tahuPkg from "sparkplug-payload";
import { dataTypeName, tagDataType, toMetricValue } from "./datatypes.ts";
import {
  DataType,
  decodePayload,
  encodePayload,
  type Metric,
  type MetricValue,
} from "./payload.ts";

const tahu = tahuPkg.get("spBv1.0")!;
type TahuPayload = Parameters<typeof tahu.encodePayload>[0];

/** A 64-bit integer as protobuf.js takes it without the `long` package: `{ low, high }`. */
function longLike(v: bigint, unsigned: boolean): { low: number; high: number; unsigned: boolean } {
  const u = BigInt.asUintN(64, v);
  return {
    low: Number(BigInt.asIntN(32, u)),
    high: Number(BigInt.asIntN(32, u >> 32n)),
    unsigned,
  };
}

/** Tahu's decoded value as text (it returns `Long` objects for 64-bit fields). */
function text(v: unknown): string {
  return String(v);
}

function tahuMetric(m: Metric): Record<string, unknown> {
  const out: Record<string, unknown> = { type: dataTypeName(m.datatype) };
  if (m.name !== undefined) out.name = m.name;
  if (m.alias !== undefined) out.alias = m.alias;
  if (m.timestamp !== undefined) out.timestamp = m.timestamp;
  if (m.isHistorical !== undefined) out.isHistorical = m.isHistorical;
  if (m.properties !== undefined) {
    out.properties = Object.fromEntries(
      Object.entries(m.properties).map(([k, v]) => [k, { type: "String", value: v }]),
    );
  }
  const v = m.value;
  out.value = typeof v === "bigint"
    ? longLike(v, m.datatype === DataType.UInt64)
    : v === undefined
    ? undefined
    : v;
  return out;
}

interface Case {
  datatype: number;
  value: MetricValue;
}

const CASES: Case[] = [
  { datatype: DataType.Int8, value: -128 },
  { datatype: DataType.Int8, value: -1 },
  { datatype: DataType.Int8, value: 127 },
  { datatype: DataType.Int16, value: -32768 },
  { datatype: DataType.Int16, value: 1234 },
  { datatype: DataType.Int32, value: -2147483648 },
  { datatype: DataType.Int32, value: 2147483647 },
  { datatype: DataType.Int64, value: -5 },
  { datatype: DataType.Int64, value: -(2n ** 63n) },
  { datatype: DataType.Int64, value: 2n ** 63n - 1n },
  { datatype: DataType.UInt8, value: 255 },
  { datatype: DataType.UInt16, value: 65535 },
  { datatype: DataType.UInt32, value: 123456 },
  { datatype: DataType.UInt32, value: 4294967295 },
  { datatype: DataType.UInt64, value: 2n ** 53n + 1n },
  { datatype: DataType.UInt64, value: 2n ** 64n - 1n },
  { datatype: DataType.UInt64, value: 42 },
  { datatype: DataType.Float, value: 21.5 },
  { datatype: DataType.Float, value: -0.25 },
  { datatype: DataType.Double, value: 0.1 },
  { datatype: DataType.Double, value: -1e300 },
  { datatype: DataType.Boolean, value: true },
  { datatype: DataType.Boolean, value: false },
  { datatype: DataType.String, value: "héllo ✓" },
  { datatype: DataType.String, value: "" },
  { datatype: DataType.DateTime, value: 1_700_000_000_123 },
];

for (const c of CASES) {
  Deno.test(`codec matches Tahu byte for byte for ${dataTypeName(c.datatype)} ${c.value}`, () => {
    const m: Metric = {
      name: "m",
      alias: 7,
      timestamp: 1_700_000_000_000,
      datatype: c.datatype,
      value: c.value,
    };
    const ours = encodePayload({ timestamp: 1_700_000_000_001, seq: 3, metrics: [m] });
    const theirs = tahu.encodePayload({
      timestamp: 1_700_000_000_001,
      seq: 3,
      metrics: [tahuMetric(m)],
    } as unknown as TahuPayload);
    assert.deepEqual(ours, new Uint8Array(theirs));

    const byTahu = tahu.decodePayload(ours);
    const tm = byTahu.metrics![0]!;
    assert.equal(tm.type, dataTypeName(c.datatype));
    assert.equal(text(tm.value), text(c.value));
    assert.equal(text(tm.alias), "7");

    const back = decodePayload(theirs).metrics[0]!;
    assert.equal(back.datatype, c.datatype);
    if (c.datatype === DataType.Float) assert.equal(back.value, Math.fround(c.value as number));
    else assert.equal(back.value, c.value);
  });
}

Deno.test("codec writes flags, null, properties and uint64 seq/alias like Tahu", () => {
  const metrics: Metric[] = [
    {
      name: "temp",
      alias: 2n ** 60n,
      timestamp: 1,
      datatype: DataType.Double,
      isHistorical: true,
      properties: { engUnit: "°C" },
      value: 1.5,
    },
    { name: "gone", datatype: DataType.Int32, value: null },
  ];
  const ours = encodePayload({ timestamp: 9, seq: 255, metrics });
  const theirs = tahu.encodePayload({
    timestamp: 9,
    seq: 255,
    metrics: [
      { ...tahuMetric(metrics[0]!), alias: longLike(2n ** 60n, true) },
      tahuMetric(metrics[1]!),
    ],
  } as unknown as TahuPayload);
  assert.deepEqual(ours, new Uint8Array(theirs));
  const d = tahu.decodePayload(ours);
  const [a, b] = d.metrics!;
  assert.equal(a!.isHistorical, true);
  assert.equal(text(a!.alias), (2n ** 60n).toString());
  assert.deepEqual(a!.properties, { engUnit: { type: "String", value: "°C" } });
  assert.equal(b!.value, null); // Tahu reports is_null as a null value
  const mine = decodePayload(ours);
  assert.equal(mine.seq, 255);
  assert.equal(mine.metrics[0]!.alias, 2n ** 60n);
  assert.equal(mine.metrics[0]!.isHistorical, true);
  assert.deepEqual(mine.metrics[0]!.properties, { engUnit: "°C" });
  assert.equal(mine.metrics[1]!.value, null);
  assert.equal(mine.metrics[1]!.isNull, true);
});

Deno.test("decoder reads signed ints from 8-bit two's complement too (lenient)", () => {
  // Int8 -1 written as 0xFF (another encoder's choice) rather than Tahu's 0xFFFFFFFF.
  const bytes = encodePayload({ metrics: [{ name: "x", datatype: DataType.UInt8, value: 255 }] });
  const p = decodePayload(bytes);
  assert.equal(p.metrics[0]!.value, 255);
  bytes[bytes.indexOf(DataType.UInt8, 3)] = DataType.Int8; // the datatype byte after key 0x20
  assert.equal(decodePayload(bytes).metrics[0]!.value, -1);
});

Deno.test("decoder rejects truncated payloads and skips unknown fields", () => {
  const bytes = encodePayload({
    timestamp: 5,
    metrics: [{ name: "a", datatype: 11, value: true }],
  });
  assert.throws(() => decodePayload(bytes.subarray(0, bytes.length - 2)), RangeError);
  // field 6 (an extension), varint 1, appended
  const withExt = new Uint8Array([...bytes, 0x30, 0x01]);
  assert.deepEqual(decodePayload(withExt).metrics[0]!.value, true);
});

Deno.test("tag types map to Sparkplug datatypes and values convert or become null", () => {
  const map: Record<string, number> = {
    bool: DataType.Boolean,
    int16: DataType.Int16,
    uint16: DataType.UInt16,
    int32: DataType.Int32,
    uint32: DataType.UInt32,
    int64: DataType.Int64,
    uint64: DataType.UInt64,
    float32: DataType.Float,
    float64: DataType.Double,
    string: DataType.String,
  };
  for (const [t, dt] of Object.entries(map)) assert.equal(tagDataType(t), dt, t);
  assert.equal(tagDataType("bytes"), undefined);
  assert.equal(toMetricValue(DataType.Int16, 40000), null);
  assert.equal(toMetricValue(DataType.Int16, -12.4), -12);
  assert.equal(toMetricValue(DataType.UInt64, 2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.equal(toMetricValue(DataType.UInt64, -1), null);
  assert.equal(toMetricValue(DataType.Double, "x"), null);
  assert.equal(toMetricValue(DataType.Boolean, 0), false);
  assert.equal(toMetricValue(DataType.String, { a: 1n }), '{"a":"1"}');
});
