/** @module Tests of the fixed-bucket histogram. */

import assert from "node:assert/strict";
import { Histogram } from "./histogram.ts";

Deno.test("observe() counts a value in the first bucket whose bound holds it", () => {
  const h = new Histogram([1, 10, 100]);
  for (const v of [0, 1, 1.5, 10, 11, 100, 1e6]) h.observe(v);
  assert.deepEqual([...h.counts], [2, 2, 2, 1]);
  assert.equal(h.count, 7);
  assert.equal(h.sum, 0 + 1 + 1.5 + 10 + 11 + 100 + 1e6);
  assert.deepEqual([...h.cumulative()], [2, 4, 6, 7]);
});

Deno.test("observe() ignores NaN", () => {
  const h = new Histogram([1]);
  h.observe(NaN);
  assert.equal(h.count, 0);
  assert.deepEqual([...h.counts], [0, 0]);
});

Deno.test("a histogram refuses bounds that do not increase", () => {
  assert.throws(() => new Histogram([1, 1]), /must increase, got 1, 1/);
});
