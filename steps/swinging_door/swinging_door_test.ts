/** @module Tests of the swinging-door step: hand-worked cases and the deviation property. */

import assert from "node:assert/strict";
import fc from "fast-check";
import { Batch, type DataRecord, type Value } from "../../engine/plugin.ts";
import { createSwingingDoor, validateSwingingDoor } from "./mod.ts";

const rec = (ts: number, value: Value, extra: Partial<DataRecord> = {}) =>
  ({
    device: "d",
    tag: "t",
    value,
    quality: "good",
    sourceTs: ts,
    gatewayTs: ts,
    seq: ts,
    ...extra,
  }) as DataRecord;

Deno.test("swinging-door drops points on a straight line and keeps the corners", () => {
  const step = createSwingingDoor({ deviation: 0.5 });
  // A ramp 0..5 then flat at 5. From (0, 0) the slopes allowed by ±0.5 narrow to
  // [0.9, 0.917] at 6 s; the value 5 at 7 s needs at most 0.786: the doors cross, and the
  // point held before it (6 s) is passed and becomes the pivot.
  const values = [0, 1, 2, 3, 4, 5, 5, 5, 5, 5];
  const out = step.process(Batch.from(values.map((v, i) => rec(i * 1000, v)))).toArray();
  assert.deepEqual(out.map((r) => [r.sourceTs, r.value]), [[0, 0], [6000, 5]]);
  assert.deepEqual(step.stats(), { in: 10, out: 2, ratio: 5 });
  // The held end point leaves when the trend breaks.
  const more = step.process(Batch.from([rec(10_000, 9)])).toArray();
  assert.deepEqual(more.map((r) => [r.sourceTs, r.value]), [[9000, 5]]);
});

Deno.test("swinging-door heartbeat passes a record at least every maxTime", () => {
  const step = createSwingingDoor({ deviation: 1, maxTime: "3s" });
  const out = step.process(Batch.from([0, 0, 0, 0, 0, 0, 0].map((v, i) => rec(i * 1000, v))));
  // At 3 s the held point (2 s) goes out before the heartbeat record itself.
  assert.deepEqual(out.toArray().map((r) => r.sourceTs), [0, 2000, 3000, 5000, 6000]);
});

Deno.test("swinging-door passes quality changes and non-numbers, and leaves other tags alone", () => {
  const step = createSwingingDoor({ deviation: 10, tags: ["t"] });
  const out = step.process(Batch.from([
    rec(0, 1),
    rec(1000, 1),
    rec(2000, 1, { quality: "bad" }),
    rec(3000, "text"),
    rec(0, 5, { tag: "other" }),
    rec(4000, 1),
  ])).toArray();
  assert.deepEqual(out.map((r) => `${r.tag}@${r.sourceTs}`), [
    "t@0",
    "t@1000",
    "t@2000",
    "t@3000",
    "other@0",
    "t@4000",
  ]);
});

/**
 * Classic swinging door passes real input points, so the line to a passed point may leave the
 * corridor by up to E at earlier points: the bound is 2E (the passed point's own ±E band
 * contains the corridor), and most points are within E.
 */
Deno.test("swinging-door property: interpolating the passed records stays within twice the deviation", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 2, maxLength: 200 }),
      fc.constantFrom(0.5, 2, 10),
      fc.integer({ min: 1, max: 50 }),
      (steps, E, batch) => {
        let v = 0;
        const pts = steps.map((d, i) => ({ ts: i * 1000, v: v += d / 10 }));
        const step = createSwingingDoor({ deviation: E });
        const kept: { ts: number; v: number }[] = [];
        for (let i = 0; i < pts.length; i += batch) {
          const b = Batch.from(pts.slice(i, i + batch).map((p) => rec(p.ts, p.v)));
          for (const r of step.process(b).toArray()) {
            kept.push({ ts: r.sourceTs, v: r.value as number });
          }
        }
        // Close: a huge jump releases the held point.
        for (const r of step.process(Batch.from([rec(pts.length * 1000, 1e9)])).toArray()) {
          kept.push({ ts: r.sourceTs, v: r.value as number });
        }
        assert.deepEqual(kept.map((k) => k.ts), [...kept.map((k) => k.ts)].sort((a, b) => a - b));
        assert.equal(kept[0]!.ts, 0);
        for (const p of pts) {
          const j = kept.findIndex((k) => k.ts >= p.ts);
          const b2 = kept[j]!, a = kept[j - 1] ?? b2;
          const y = b2.ts === a.ts ? b2.v : a.v + (b2.v - a.v) * (p.ts - a.ts) / (b2.ts - a.ts);
          assert.ok(Math.abs(y - p.v) <= 2 * E + 1e-9, `at ${p.ts}: ${p.v} vs ${y} (E ${E})`);
        }
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("swinging-door validate rejects a zero maxTime", () => {
  assert.deepEqual(validateSwingingDoor({ deviation: 1, maxTime: "0s" }).map((i) => i.path), [[
    "maxTime",
  ]]);
});
