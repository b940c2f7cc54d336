/**
 * @module
 * The generators on the simulator's tick, without a server: simulated time (tick count times
 * `changeEvery`), counters that wrap only with a max, values in the variable's type.
 */

import { assertEquals } from "../../../tests/_assert.ts";
import type { SimGenerator, SimVariableDef } from "./config.ts";
import { ticking, valueAt } from "./_tick.ts";

function run(v: Partial<SimVariableDef>, g: SimGenerator, ticks: number, every = 1000) {
  const def = {
    id: "x",
    type: "Double",
    array: false,
    value: 0,
    writable: false,
    at: "t:1:1",
    ...v,
  };
  const t = ticking(def as SimVariableDef, g, every);
  return Array.from({ length: ticks }, (_, i) => valueAt(t, i + 1, every, g.kind));
}

Deno.test("a counter counts on past 100 from its start; with max it wraps to min", () => {
  assertEquals(run({ value: 98 }, { kind: "counter" }, 4), [99, 100, 101, 102]);
  assertEquals(run({ value: 8 }, { kind: "counter", max: 10, min: 5 }, 4), [9, 10, 5, 6]);
  assertEquals(run({ type: "Int64", value: 5n }, { kind: "counter", step: 5 }, 2), [10n, 15n]);
});

Deno.test("time is ticks times changeEvery: a 100 s ramp at 1 s ticks is tick % 100", () => {
  assertEquals(run({}, { kind: "ramp", min: 0, max: 100, periodMs: 100_000 }, 3), [1, 2, 3]);
  // The same ramp on a 250 ms tick moves a quarter as far per tick.
  assertEquals(run({}, { kind: "ramp", min: 0, max: 100, periodMs: 100_000 }, 2, 250), [0.25, 0.5]);
});

Deno.test("values fit the variable's type: Boolean toggles, integers round and clamp, Float is single", () => {
  assertEquals(run({ type: "Boolean" }, { kind: "toggle", periodMs: 2000 }, 4), [
    false,
    true,
    false,
    true,
  ]);
  assertEquals(run({ type: "Int16" }, { kind: "ramp", min: 0, max: 100_000, periodMs: 4000 }, 3), [
    25000,
    32767,
    32767,
  ]);
  const r = run({ type: "Float" }, { kind: "random", min: 1, max: 2, seed: 3 }, 50) as number[];
  assertEquals(r.every((x) => x >= 1 && x <= 2 && Math.fround(x) === x), true);
});
