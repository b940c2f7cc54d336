/** @module Tests of the block codec. */

import assert from "node:assert/strict";
import { Batch, type DataRecord } from "../../engine/plugin.ts";
import { BlockEncoder, blockValue, decodeBlock } from "./codec.ts";

function roundTrip(records: DataRecord[], series: number[]): void {
  const b = Batch.from(records);
  const idx = records.map((_, i) => i);
  // A copy at an odd offset: decoding must not rely on the BLOB's alignment.
  const enc = new BlockEncoder().encode(b, idx, series, records.length);
  const odd = new Uint8Array(enc.length + 1);
  odd.set(enc, 1);
  for (const data of [enc.slice(), odd.subarray(1)]) {
    const bl = decodeBlock(data);
    assert.equal(bl.n, records.length);
    records.forEach((r, j) => {
      assert.equal(bl.series[j], series[j]);
      assert.deepEqual(blockValue(bl, j), r.value);
      assert.ok(Object.is(bl.sourceTs(j), r.sourceTs), `sourceTs ${j}: ${bl.sourceTs(j)}`);
      assert.ok(Object.is(bl.gatewayTs(j), r.gatewayTs), `gatewayTs ${j}: ${bl.gatewayTs(j)}`);
      assert.ok(Object.is(bl.seq(j), r.seq), `seq ${j}`);
      assert.equal(["good", "uncertain", "bad"][(bl.flags[j]! >> 3) & 3], r.quality);
      assert.equal(bl.reason(j), r.reason);
    });
  }
}

const rec = (i: number, extra: Partial<DataRecord> = {}): DataRecord => ({
  device: "d",
  tag: `t${i}`,
  value: i * 1.5,
  quality: "good",
  sourceTs: 1_700_000_000_000,
  gatewayTs: 1_700_000_000_004,
  seq: 1_700_000_000_000_000 + i,
  ...extra,
});

Deno.test("codec packs a poll (same timestamps, consecutive seq and series) in 9 bytes a record", () => {
  const records = Array.from({ length: 100 }, (_, i) => rec(i));
  const series = records.map((_, i) => 500 + i);
  roundTrip(records, series);
  const enc = new BlockEncoder().encode(Batch.from(records), series.map((_, i) => i), series, 100);
  assert.equal(enc.length, 40 + 9 * 100);
});

Deno.test("codec falls back per column and keeps every number's bits", () => {
  const records = [
    rec(0, { sourceTs: 1000.25, gatewayTs: 1000.5, seq: 7, value: NaN }),
    rec(1, { sourceTs: 1003.75, gatewayTs: -0, seq: 2 ** 52, value: -0 }),
    rec(2, { sourceTs: -0, gatewayTs: 1e300, seq: 0.5, value: -Infinity }),
    rec(3, { sourceTs: 1e15, gatewayTs: 3, seq: -4, value: Number.MIN_VALUE }),
  ];
  roundTrip(records, [9, 3, 2_000_000_000, 0]);
  // Integer deltas: the Int32 modes.
  roundTrip(
    Array.from(
      { length: 5 },
      (_, i) => rec(i, { sourceTs: 5000 - i * 1000, gatewayTs: 5000 + i, seq: 10 - 3 * i }),
    ),
    [4, 8, 1, 9, 2],
  );
});

Deno.test("codec round-trips every value kind, qualities and repeated reasons", () => {
  const reason = 'Cannot read HR0 on "plc": timeout ⏱';
  const records: DataRecord[] = [
    rec(0, { value: true }),
    rec(1, { value: false, quality: "uncertain", reason: "stale" }),
    rec(2, { value: "Grüße 🌡", quality: "bad", reason }),
    rec(3, { value: "", quality: "bad", reason }),
    rec(4, { value: -12345678901234567890n, quality: "bad", reason }),
    rec(5, { value: { a: [1, "x", null, { b: 2n }] }, reason: "other" }),
    rec(6, { value: null, quality: "bad", reason }),
    rec(7, { value: [1, [2, [3]]] }),
  ];
  roundTrip(records, records.map((_, i) => i + 1));
});

Deno.test("codec refuses a block of another format", () => {
  const enc = new BlockEncoder().encode(Batch.from([rec(0)]), [0], [1], 1).slice();
  enc[0] = 9;
  assert.throws(() => decodeBlock(enc), /format 9 is not 1/);
});

Deno.test("codec grows its scratch space for a large block and keeps encoding small ones", () => {
  const enc = new BlockEncoder();
  const small = Batch.from([rec(0), rec(1)]);
  const big = Batch.from([rec(0, { value: "x".repeat(100_000) }), rec(1, { seq: 7 })]);
  for (const [b, series] of [[small, [3, 4]], [big, [5, 9]], [small, [3, 4]]] as const) {
    const bl = decodeBlock(enc.encode(b, [0, 1], series, 2).slice());
    assert.deepEqual([...bl.series], series);
    assert.deepEqual([blockValue(bl, 0), blockValue(bl, 1)], [b.value(0), b.value(1)]);
    assert.deepEqual([bl.seq(0), bl.seq(1)], [b.seq[0], b.seq[1]]);
  }
});
