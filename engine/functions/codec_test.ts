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

function ends(capacity: number): [WireEnd, WireEnd] {
  const host = WireEnd.withCapacity(capacity), worker = new WireEnd();
  worker.accept(host.pending());
  return [host, worker];
}

function numbers(n: number, tag = (i: number) => `t${i % 7}`): Batch {
  return Batch.from(Array.from({ length: n }, (_, i) => ({
    device: "d",
    tag: tag(i),
    value: i,
    quality: "good" as const,
    sourceTs: i,
    gatewayTs: i,
    seq: i,
  })));
}

Deno.test("every value kind crosses to the worker and back byte for byte", () => {
  const [host, worker] = ends(4);
  const input = Batch.from(everyKind());
  const records = roundTrip(host, worker, input, 42);
  assert.equal(worker.now, 42);
  assert.deepEqual(records, everyKind());
  for (const r of records) assert.equal("reason" in r, r.quality !== "good");
  const out = host.decodeBatch(worker.encodeRecords(records), input);
  assert.equal(out, input, "the reply is decoded into the request");
  assertSameBatch(out, Batch.from(everyKind()));
  // Into a new batch when there is no request to decode into.
  const again = roundTrip(host, worker, Batch.from(everyKind()));
  assertSameBatch(host.decodeBatch(worker.encodeRecords(again)), Batch.from(everyKind()));
});

Deno.test("a steady stream of numbers needs no extras after the first batch", () => {
  const [host, worker] = ends(1024);
  const input = numbers(100);
  const first = host.encodeBatch(input, 0);
  assert.deepEqual(first?.strs, ["d", "t0", "t1", "t2", "t3", "t4", "t5", "t6"]);
  const recs = worker.decodeRecords(first);
  assert.equal(worker.encodeRecords(recs), undefined);
  assertSameBatch(host.decodeBatch(undefined, input), numbers(100));
  // Names of the same identity or of equal content at the same positions: no extras.
  const copy = numbers(100, (i) => `t${i % 7}`);
  assert.equal(host.encodeBatch(copy, 0), undefined);
  const again = worker.decodeRecords(undefined);
  assert.deepEqual(again, numbers(100).toArray());
  assert.equal(worker.encodeRecords(again), undefined);
  assertSameBatch(host.decodeBatch(undefined, copy), numbers(100));
});

Deno.test("a name that changes between requests reaches the worker", () => {
  const [host, worker] = ends(16);
  worker.decodeRecords(host.encodeBatch(numbers(10), 0));
  const renamed = numbers(10, (i) => (i === 3 ? "moved" : `t${i % 7}`));
  const x = host.encodeBatch(renamed, 0);
  assert.deepEqual(x?.strs, ["moved"]);
  assert.deepEqual(worker.decodeRecords(x), renamed.toArray());
  // Fewer records than before.
  assert.deepEqual(worker.decodeRecords(host.encodeBatch(numbers(4), 0)), numbers(4).toArray());
});

Deno.test("records the worker adds or renames come back with their new names", () => {
  const [host, worker] = ends(2);
  const input = Batch.from(everyKind().slice(0, 2));
  const recs = worker.decodeRecords(host.encodeBatch(input, 0));
  const extra = Array.from({ length: 50 }, (_, i) => ({ ...recs[0]!, tag: `new-${i}`, seq: i }));
  const out = host.decodeBatch(worker.encodeRecords([...recs, ...extra]), input);
  assert.deepEqual(out.toArray(), [...everyKind().slice(0, 2), ...extra]);
});

Deno.test("a reply with fewer records leaves no stale values or reasons", () => {
  const [host, worker] = ends(16);
  const input = Batch.from(everyKind());
  const recs = worker.decodeRecords(host.encodeBatch(input, 0));
  const kept = [{ ...recs[0]!, tag: "renamed", value: "text" }, recs[1]!];
  const out = host.decodeBatch(worker.encodeRecords(kept), input);
  assert.equal(out.length, 2);
  assert.deepEqual(out.toArray(), kept);
  assert.deepEqual(out.device, ["plc-1", "plc-1"]);
  assert.ok(out.reason.every((r) => r === undefined));
  assert.ok(out.obj.every((v, i) => v === undefined || i === 0));
});

Deno.test("a worker that lost the names refuses a request reusing them; resync resends", () => {
  const host = WireEnd.withCapacity(16), worker = new WireEnd(), lost = new WireEnd();
  const init = host.pending();
  worker.accept(init);
  lost.accept(init);
  const input = numbers(10);
  const first = host.encodeBatch(input, 0);
  worker.decodeRecords(first);
  lost.accept({ strs: first?.strs });
  assert.equal(host.encodeBatch(input, 0), undefined);
  assert.throws(() => lost.decodeRecords(undefined), /reuses the names of 0 records for 10/);
  host.resync();
  assert.deepEqual(lost.decodeRecords(host.encodeBatch(input, 0)), input.toArray());
});

Deno.test("the string table starts over when it grows past its limit", () => {
  const [host, worker] = ends(16);
  const many = numbers(STRING_TABLE_LIMIT + 10, (i) => `tag-${i}`);
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
