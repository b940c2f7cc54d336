import { assertEquals } from "../tests/_assert.ts";
import { Batch, SequenceCounter } from "./record.ts";

Deno.test("SequenceCounter numbers each source on its own, above the wall clock × 1000", () => {
  const s = new SequenceCounter(1_000);
  assertEquals(s.next("a"), 1_000_000);
  assertEquals(s.take("a", 3), 1_000_001);
  assertEquals(s.next("a"), 1_000_004);
  assertEquals(s.next("b"), 1_000_000);
});

Deno.test("SequenceCounter reports the range each source used and the total handed out", () => {
  const s = new SequenceCounter(1_000);
  assertEquals(s.ranges(), {});
  assertEquals(s.issued(), 0);
  s.take("a", 3);
  s.take("a", 2);
  s.next("b");
  assertEquals(s.ranges(), { a: [1_000_000, 1_000_004], b: [1_000_000, 1_000_000] });
  assertEquals(s.issued(), 6);
});

Deno.test("Batch keeps every value kind and grows past its capacity", () => {
  const b = new Batch(1);
  const values = [1.5, true, "text", 12n, null, [1, 2], { a: 1 }];
  values.forEach((v, i) => b.add("d", `t${i}`, v, 0, undefined, 1, 2, i));
  assertEquals(b.toArray().map((r) => r.value), values);
  assertEquals(b.select((i) => i % 2 === 0).toArray().map((r) => r.tag), ["t0", "t2", "t4", "t6"]);
});

Deno.test("Batch keeps its typed columns in one buffer, also after growing", () => {
  const b = new Batch(2);
  for (let i = 0; i < 5; i++) b.add("d", `t${i}`, i * 1.5, 0, undefined, 10 + i, 20 + i, 30 + i);
  const buffers = new Set(
    [b.num, b.sourceTs, b.gatewayTs, b.seq, b.kind, b.quality].map((c) => c.buffer),
  );
  assertEquals(buffers.size, 1);
  assertEquals(b.toArray().map((r) => [r.value, r.sourceTs, r.gatewayTs, r.seq]), [
    [0, 10, 20, 30],
    [1.5, 11, 21, 31],
    [3, 12, 22, 32],
    [4.5, 13, 23, 33],
    [6, 14, 24, 34],
  ]);
  // Numbers and good records leave the sparse columns empty.
  assertEquals([b.obj.length, b.reason.length], [0, 0]);
});

Deno.test("Batch.withNames copies the names it is given and starts good and zero", () => {
  const names = ["a", "b"];
  const b = Batch.withNames("dev", names);
  b.tag[0] = "renamed";
  assertEquals(names, ["a", "b"]);
  assertEquals(b.toArray().map((r) => [r.device, r.tag, r.value, r.quality]), [
    ["dev", "renamed", 0, "good"],
    ["dev", "b", 0, "good"],
  ]);
});

Deno.test("Batch.copyFrom keeps reasons and object values, and only those it has", () => {
  const src = new Batch();
  src.add("d", "a", 1, 0, undefined, 0, 0, 0);
  src.add("d", "b", "text", 2, "Cannot read b", 0, 0, 1);
  const out = src.clone();
  assertEquals(out.toArray(), src.toArray());
  assertEquals(src.select((i) => i === 0).reason.length, 0);
});
