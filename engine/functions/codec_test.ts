/**
 * @module
 * Tests of the columnar transfer codec, both ends in one thread: what the host encodes the
 * worker decodes into the same records, and back, byte for byte.
 */

import assert from "node:assert/strict";
import { Batch, type DataRecord } from "../record.ts";
import { assertSameBatch, everyKind } from "./_testing.ts";
import { STRING_TABLE_LIMIT, WireEnd } from "./codec.ts";

function roundTrip(host: WireEnd, worker: WireEnd, batch: Batch, now = 0): DataRecord[] {
  return worker.decodeRecords(host.encodeBatch(batch, now));
}

Deno.test("every value kind crosses to the worker and back byte for byte", () => {
  const host = WireEnd.withCapacity(4), worker = new WireEnd();
  worker.accept(host.pending());
  const input = Batch.from(everyKind());
  const records = roundTrip(host, worker, input, 42);
  assert.equal(worker.now, 42);
  assert.deepEqual(records, everyKind());
  const out = host.decodeBatch(worker.encodeRecords(records), input);
  assertSameBatch(out, input);
});

Deno.test("a steady stream of numbers needs no extras after the first batch", () => {
  const host = WireEnd.withCapacity(1024), worker = new WireEnd();
  worker.accept(host.pending());
  const input = Batch.from(
    Array.from({ length: 100 }, (_, i) => ({
      device: "d",
      tag: `t${i % 7}`,
      value: i,
      quality: "good" as const,
      sourceTs: i,
      gatewayTs: i,
      seq: i,
    })),
  );
  const first = host.encodeBatch(input, 0);
  assert.deepEqual(first?.strs, ["d", "t0", "t1", "t2", "t3", "t4", "t5", "t6"]);
  const recs = worker.decodeRecords(first);
  assert.equal(worker.encodeRecords(recs), undefined);
  assert.equal(host.encodeBatch(input, 0), undefined);
  const again = worker.decodeRecords(undefined);
  assert.equal(worker.encodeRecords(again), undefined);
  assertSameBatch(host.decodeBatch(undefined, input), input);
});

Deno.test("records the worker adds or renames come back with their new names", () => {
  const host = WireEnd.withCapacity(2), worker = new WireEnd();
  worker.accept(host.pending());
  const input = Batch.from(everyKind().slice(0, 2));
  const recs = worker.decodeRecords(host.encodeBatch(input, 0));
  const extra = Array.from({ length: 50 }, (_, i) => ({ ...recs[0]!, tag: `new-${i}`, seq: i }));
  const out = host.decodeBatch(worker.encodeRecords([...recs, ...extra]), input);
  assert.deepEqual(out.toArray(), [...everyKind().slice(0, 2), ...extra]);
});

Deno.test("the string table starts over when it grows past its limit", () => {
  const host = WireEnd.withCapacity(16), worker = new WireEnd();
  worker.accept(host.pending());
  const many = Batch.from(Array.from({ length: STRING_TABLE_LIMIT + 10 }, (_, i) => ({
    device: "d",
    tag: `tag-${i}`,
    value: i,
    quality: "good" as const,
    sourceTs: 0,
    gatewayTs: 0,
    seq: i,
  })));
  worker.decodeRecords(host.encodeBatch(many, 0));
  assert.ok(host.strings.size > STRING_TABLE_LIMIT);
  const small = Batch.from(everyKind());
  const x = host.encodeBatch(small, 0);
  assert.equal(host.strings.size, 12 + 2);
  assert.deepEqual(worker.decodeRecords(x), everyKind());
  assert.equal(worker.strings.size, host.strings.size);
});

Deno.test("a malformed returned record is rejected with its index and field", () => {
  const worker = new WireEnd();
  const ok = everyKind()[0]!;
  const cases: [unknown, RegExp][] = [
    ["nope", /expected an array of records, got "nope"/],
    [[ok, 7], /returned record 1: expected an object, got number 7/],
    [[{ ...ok, device: 3 }], /"device" of returned record 0: expected a string, got number 3/],
    [[{ ...ok, quality: "ok" }], /"quality" of returned record 0: expected one of good/],
    [[{ ...ok, seq: "1" }], /"seq" of returned record 0: expected a number, got "1"/],
    [[{ ...ok, value: undefined }], /"value" of returned record 0: expected a number/],
    [[{ ...ok, value: () => 1 }], /"value" of returned record 0: .* got a function/],
    [[{ ...ok, reason: 5 }], /"reason" of returned record 0: expected a string/],
  ];
  for (const [value, re] of cases) {
    assert.throws(() => worker.encodeRecords(value as DataRecord[]), re);
  }
});
