import assert from "node:assert/strict";
import { type GeneratorSpec, initGenerator, stepGenerator } from "./generators.ts";

function run(spec: GeneratorSpec, times: number[]): number[] {
  let s = initGenerator(spec);
  return times.map((t) => (s = stepGenerator(spec, s, t)).value);
}

const close = (a: number[], b: number[]) =>
  assert.deepEqual(a.map((x) => Math.round(x * 1e9) / 1e9), b);

Deno.test("sine runs from the middle up to max, down to min, over a period", () => {
  close(run({ generator: "sine", min: 0, max: 10, period: "4s" }, [1000, 2000, 3000, 4000, 5000]), [
    5,
    10,
    5,
    0,
    5,
  ]);
});

Deno.test("the first step sets the time origin", () => {
  close(run({ generator: "sine", min: 0, max: 10, period: "4s" }, [5000, 6000]), [5, 10]);
});

Deno.test("ramp climbs from min to max and starts again", () => {
  close(run({ generator: "ramp", min: 0, max: 100, period: 1000 }, [0, 250, 500, 999, 1000]), [
    0,
    25,
    50,
    99.9,
    0,
  ]);
});

Deno.test("square is max for the first half of the period, min for the second", () => {
  assert.deepEqual(
    run({ generator: "square", period: "20s" }, [0, 9_999, 10_000, 19_999, 20_000]),
    [1, 1, 0, 0, 1],
  );
});

Deno.test("counter adds step every interval and wraps above max", () => {
  assert.deepEqual(run({ generator: "counter", step: 7 }, [0, 999, 1000, 3500]), [0, 0, 7, 21]);
  assert.deepEqual(run({ generator: "counter", step: 1, max: 2, every: 10 }, [0, 10, 20, 30, 40]), [
    0,
    1,
    2,
    0,
    1,
  ]);
});

Deno.test("constant holds its value", () => {
  assert.deepEqual(run({ generator: "constant", value: 70 }, [0, 1e6]), [70, 70]);
  assert.equal(initGenerator({ generator: "constant", value: 70 }).value, 70);
});

Deno.test("random-walk stays within bounds, moves by at most step and repeats with a seed", () => {
  const spec: GeneratorSpec = { generator: "random-walk", min: 55, max: 75, step: 0.2, seed: 42 };
  const times = Array.from({ length: 500 }, (_, i) => i * 100);
  const a = run(spec, times);
  assert.deepEqual(run(spec, times), a);
  let prev = 65;
  for (const v of a) {
    assert.ok(v >= 55 && v <= 75 && Math.abs(v - prev) <= 0.2 + 1e-12, `value ${v} after ${prev}`);
    prev = v;
  }
  assert.notDeepEqual(run({ ...spec, seed: 7 }, times), a);
});

Deno.test("stepGenerator() leaves the old state untouched", () => {
  const spec: GeneratorSpec = { generator: "counter" };
  const s0 = initGenerator(spec);
  const s1 = stepGenerator(spec, stepGenerator(spec, s0, 0), 5000);
  assert.equal(s0.value, 0);
  assert.equal(s1.value, 5);
});

Deno.test("initGenerator() rejects unknown generators and bad periods", () => {
  assert.throws(
    () => initGenerator({ generator: "wobble" as "sine" }),
    /Cannot use generator "wobble"/,
  );
  assert.throws(
    () => initGenerator({ generator: "sine", period: "0s" }),
    /period "0s": it must be above 0/,
  );
  assert.throws(() => initGenerator({ generator: "sine", min: 5, max: 1 }), /min 5 above max 1/);
});
