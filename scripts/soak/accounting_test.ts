import { assertEquals } from "../../tests/_assert.ts";
import { accountLosses, receive, type Received, receivedRanges, SeqSet } from "./accounting.ts";

Deno.test("SeqSet counts distinct numbers and repeats, across chunk boundaries", () => {
  const s = new SeqSet();
  const base = 1_764_000_000_000_000; // a real sequence base: wall-clock ms × 1000
  for (const n of [base, base + 1, base + 65_535, base + 65_536, base + 1]) s.add(n);
  assertEquals([s.size, s.duplicates, s.min, s.max], [4, 1, base, base + 65_536]);
  assertEquals([s.has(base + 65_536), s.has(base + 2)], [true, false]);
  assertEquals(s.countIn(base, base + 10), 2);
});

Deno.test("accountLosses finds every produced number that never arrived", () => {
  const received: Received = new Map();
  for (const n of [100, 101, 103, 104, 104]) receive(received, "a", n);
  for (const n of [100, 101]) receive(received, "b", n);
  const r = accountLosses({ a: [100, 104], b: [100, 102] }, received);
  assertEquals(r, {
    produced: 8,
    delivered: 6,
    lost: 2,
    duplicates: 1,
    unexpected: 0,
    missing: ["a#102", "b#102"],
  });
});

Deno.test("accountLosses counts duplicates as delivered once and strangers as unexpected", () => {
  const received: Received = new Map();
  for (const n of [5, 5, 5, 6, 99]) receive(received, "a", n);
  receive(received, "ghost", 1);
  const r = accountLosses({ a: [5, 6] }, received);
  assertEquals([r.produced, r.delivered, r.lost, r.duplicates, r.unexpected], [2, 2, 0, 2, 2]);
});

Deno.test("accountLosses reports a device whose records never arrived as all lost", () => {
  const r = accountLosses({ quiet: [10, 19] }, new Map());
  assertEquals([r.produced, r.lost, r.missing.length], [10, 10, 10]);
});

Deno.test("receivedRanges spans what any destination received, per device", () => {
  const mqtt: Received = new Map(), history: Received = new Map();
  for (const n of [10, 12]) receive(mqtt, "a", n);
  for (const n of [11, 15]) receive(history, "a", n);
  receive(history, "b", 7);
  assertEquals(receivedRanges(mqtt, history), { a: [10, 15], b: [7, 7] });
  // Against those ranges the MQTT side misses 11, 13, 14 and 15 of "a" and all of "b".
  assertEquals(accountLosses(receivedRanges(mqtt, history), mqtt).lost, 5);
});
