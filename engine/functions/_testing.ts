/**
 * @module
 * Test helpers shared by the codec and `function` step tests: a record of every value
 * kind, and a byte-for-byte comparison of batches.
 */

import assert from "node:assert/strict";
import type { Batch, DataRecord } from "../record.ts";

/** One record of every value kind, some with reasons. */
export function everyKind(): DataRecord[] {
  const base = { device: "plc-1", quality: "good" as const, gatewayTs: 1_700_000_000_123.5 };
  return [
    { ...base, tag: "n", value: -0.1, sourceTs: 1_700_000_000_000, seq: 9_007_199_254_740_000 },
    { ...base, tag: "neg0", value: -0, sourceTs: 1, seq: 2 },
    { ...base, tag: "inf", value: -Infinity, sourceTs: 1, seq: 3 },
    { ...base, tag: "nan", value: NaN, sourceTs: 1, seq: 4 },
    { ...base, tag: "t", value: true, sourceTs: 2, seq: 5 },
    { ...base, tag: "f", value: false, sourceTs: 2, seq: 6 },
    { ...base, tag: "s", value: "héllo \u0000 wörld", sourceTs: 3, seq: 7 },
    { ...base, tag: "empty", value: "", sourceTs: 3, seq: 8 },
    { ...base, tag: "big", value: 2n ** 70n, sourceTs: 4, seq: 9 },
    {
      ...base,
      device: "plc-2",
      tag: "nul",
      value: null,
      quality: "bad",
      reason: "timeout",
      sourceTs: 5,
      seq: 10,
    },
    {
      ...base,
      tag: "json",
      value: { a: [1, "x", null, { b: true }] },
      quality: "uncertain",
      reason: "stale",
      sourceTs: 6,
      seq: 11,
    },
    { ...base, tag: "arr", value: [1, 2, 3], sourceTs: 7, seq: 12 },
  ];
}

function bytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Asserts two batches hold the same records, typed columns compared byte for byte. */
export function assertSameBatch(actual: Batch, expected: Batch): void {
  const n = expected.length;
  assert.equal(actual.length, n);
  for (const col of ["num", "sourceTs", "gatewayTs", "seq", "kind", "quality"] as const) {
    assert.deepEqual(bytes(actual[col].subarray(0, n)), bytes(expected[col].subarray(0, n)), col);
  }
  assert.deepEqual(actual.toArray(), expected.toArray());
}
