import { assertEquals } from "../tests/_assert.ts";
import { Batch, SequenceCounter } from "./record.ts";

Deno.test("SequenceCounter numbers each source on its own, above the wall clock × 1000", () => {
  const s = new SequenceCounter(1_000);
  assertEquals(s.next("a"), 1_000_000);
  assertEquals(s.take("a", 3), 1_000_001);
  assertEquals(s.next("a"), 1_000_004);
  assertEquals(s.next("b"), 1_000_000);
});

Deno.test("Batch keeps every value kind and grows past its capacity", () => {
  const b = new Batch(1);
  const values = [1.5, true, "text", 12n, null, [1, 2], { a: 1 }];
  values.forEach((v, i) => b.add("d", `t${i}`, v, 0, undefined, 1, 2, i));
  assertEquals(b.toArray().map((r) => r.value), values);
  assertEquals(b.select((i) => i % 2 === 0).toArray().map((r) => r.tag), ["t0", "t2", "t4", "t6"]);
});
