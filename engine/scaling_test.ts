/** @module Tests of tag scaling. */

import assert from "node:assert/strict";
import {
  applyCompiled,
  applyScaling,
  compileScaling,
  invertScaling,
  scaleValue,
  scalingIssues,
  unscaleValue,
} from "./scaling.ts";

Deno.test("applyScaling uses gain and offset", () => {
  assert.equal(applyScaling(215, { gain: 0.01 }), 2.15);
  assert.equal(applyScaling(100, { gain: 1.8, offset: 32 }), 212);
  assert.equal(applyScaling(7, {}), 7);
});

Deno.test("applyScaling maps two points linearly, inside and outside the raw range", () => {
  const s = { rawMin: 0, rawMax: 27648, engMin: 0, engMax: 100 };
  assert.equal(applyScaling(13824, s), 50);
  assert.equal(applyScaling(27648, s), 100);
  assert.equal(applyScaling(-27648, s), -100);
  const ma = { rawMin: 4000, rawMax: 20000, engMin: -50, engMax: 150 };
  assert.equal(applyScaling(12000, ma), 50);
});

Deno.test("applyScaling clamps after scaling and keeps NaN", () => {
  const s = { rawMin: 0, rawMax: 100, engMin: 0, engMax: 10, clampMin: 0, clampMax: 10 };
  assert.equal(applyScaling(-5, s), 0);
  assert.equal(applyScaling(250, s), 10);
  assert.ok(Number.isNaN(applyScaling(NaN, s)));
});

Deno.test("compiled scaling gives the same results as applyScaling", () => {
  const cases = [
    { gain: 0.1, offset: -3, clampMax: 50 },
    { rawMin: 3, rawMax: 17, engMin: -1, engMax: 2.5, clampMin: -0.5 },
  ];
  for (const s of cases) {
    const c = compileScaling(s);
    for (const raw of [-1000, -3.3, 0, 1, 9.75, 17, 1e6]) {
      assert.equal(
        applyCompiled(raw, c),
        applyScaling(raw, s),
        `raw ${raw} with ${JSON.stringify(s)}`,
      );
    }
  }
});

Deno.test("scalingIssues reports partial two-point, mixing, empty ranges and bad clamps", () => {
  assert.deepEqual(scalingIssues({ gain: 2 }), []);
  assert.deepEqual(
    scalingIssues({ rawMin: 0, rawMax: 10, engMin: 0, engMax: 1, gain: 1, offset: 0 }),
    [],
  );
  assert.deepEqual(scalingIssues({ rawMin: 0, rawMax: 10 }).map(([f]) => f), ["engMin"]);
  assert.deepEqual(
    scalingIssues({ rawMin: 0, rawMax: 10, engMin: 0, engMax: 1, gain: 2 }).map(([f]) => f),
    ["gain"],
  );
  assert.deepEqual(scalingIssues({ rawMin: 5, rawMax: 5, engMin: 0, engMax: 1 }).map(([f]) => f), [
    "rawMax",
  ]);
  const [[field, msg]] = scalingIssues({ clampMin: 10, clampMax: 1 }) as [[string, string]];
  assert.equal(field, "clampMin");
  assert.match(msg, /clampMin 10 is above clampMax 1/);
  assert.throws(() => compileScaling({ rawMin: 0 }), RangeError);
});

Deno.test("invertScaling() turns an engineering value back into the raw value", () => {
  assert.equal(Math.round(invertScaling(2.15, { gain: 0.01 })), 215);
  assert.equal(invertScaling(50, { rawMin: 0, rawMax: 27648, engMin: 0, engMax: 100 }), 13824);
  assert.equal(invertScaling(212, { gain: 1.8, offset: 32 }), 100);
  assert.throws(() => invertScaling(1, { gain: 0 }), /gain 0/);
});

Deno.test("scaleValue() and unscaleValue() work element by element on arrays", () => {
  assert.deepEqual(scaleValue([100, 200], { gain: 0.5 }), [50, 100]);
  assert.deepEqual(scaleValue(true, { gain: 0.5 }), true);
  assert.deepEqual(unscaleValue([1.5, 2.5], { gain: 0.01 }, "array"), [150, 250]);
  assert.equal(unscaleValue(2.5, { gain: 2 }, "float"), 1.25);
});

Deno.test("unscaleValue() rounds by value kind, and strips only inversion noise from arrays", () => {
  assert.equal(unscaleValue(21.37, { gain: 0.1 }, "integer"), 214);
  assert.equal(unscaleValue(21.3, { gain: 0.1 }, "float"), 21.3 / 0.1);
  assert.deepEqual(unscaleValue([21.3, 21.37], { gain: 0.1 }, "array"), [213, 21.37 / 0.1]);
});

Deno.test("a 1/n gain and a two-point range give the decimal a user expects, not float noise", () => {
  // Multiplying by the inexact 0.01 gives 2.2600000000000002; dividing by 100 gives 2.26.
  assert.equal(226 * 0.01, 2.2600000000000002);
  assert.equal(applyScaling(226, { gain: 0.01 }), 2.26);
  assert.equal(applyScaling(7, { gain: 0.1, offset: 1 }), 1.7);
  assert.equal(applyScaling(13824, { rawMin: 0, rawMax: 27648, engMin: 0, engMax: 100 }), 50);
  const c = compileScaling({ gain: 0.001 });
  for (const raw of [1, 226, 4095, -32768, 65535]) {
    const v = applyCompiled(raw, c);
    assert.equal(v, raw / 1000, `${raw}`);
    assert.equal(/\.\d{4,}/.test(String(v)), false, `${raw} -> ${v}`);
  }
  // Gains that are not 1/n keep their multiplication; the inverse still round-trips.
  assert.equal(applyScaling(20, { gain: 1.8, offset: 32 }), 68);
  assert.equal(unscaleValue(2.26, { gain: 0.01 }, "integer"), 226);
});
