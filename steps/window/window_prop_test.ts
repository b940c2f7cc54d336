/**
 * @module Property-based tests of the window step (fast-check): over random streams, the sums of
 * tumbling windows equal the sum of the input, no record is counted twice or lost across window
 * boundaries, sliding windows count each record size/hop times, and late records are dropped as
 * declared (counted, never in a window).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { Batch, ManualClock } from "../../engine/plugin.ts";
import { createWindow } from "./mod.ts";

interface Pt {
  tag: number;
  ts: number;
  v: number;
}

const stream = fc.array(
  fc.record({
    tag: fc.integer({ min: 0, max: 4 }),
    dt: fc.integer({ min: 0, max: 3000 }),
    v: fc.integer({ min: -1000, max: 1000 }),
  }),
  { minLength: 1, maxLength: 300 },
).map((xs) => {
  let ts = 1_000_000;
  return xs.map(({ tag, dt, v }) => ({ tag, ts: ts += dt, v }));
});

/** Feeds points in batches of `batch`, then one far-future record per tag to close all. */
function feed(step: ReturnType<typeof createWindow>, pts: Pt[], batch: number, end: number) {
  const outs: Batch[] = [];
  for (let i = 0; i < pts.length; i += batch) {
    const b = new Batch();
    for (const p of pts.slice(i, i + batch)) b.add("d", `t${p.tag}`, p.v, 0, undefined, p.ts, 0, 0);
    outs.push(step.process(b));
  }
  const last = new Batch();
  last.add("d", "closer", 0, 0, undefined, end, 0, 0);
  outs.push(step.process(last));
  return Batch.concat(outs).toArray().filter((r) => !r.tag.startsWith("closer"));
}

Deno.test("window property: tumbling sums and counts equal the input's, per tag", () => {
  fc.assert(
    fc.property(stream, fc.integer({ min: 1, max: 20 }), fc.constantFrom("1s", "5s", "1m"), (
      pts,
      batch,
      size,
    ) => {
      const step = createWindow({ size, aggregates: ["sum", "count"] }, {
        clock: new ManualClock(0),
      });
      const out = feed(step, pts, batch, 10_000_000_000);
      for (let t = 0; t < 5; t++) {
        const mine = pts.filter((p) => p.tag === t);
        const sum = out.filter((r) => r.tag === `t${t}.sum`).reduce(
          (a, r) => a + (r.value as number),
          0,
        );
        const n = out.filter((r) => r.tag === `t${t}.count`).reduce(
          (a, r) => a + (r.value as number),
          0,
        );
        assert.equal(n, mine.length);
        assert.equal(sum, mine.reduce((a, p) => a + p.v, 0));
      }
      // No two windows of one tag share an end (no window emitted twice).
      const ends = out.filter((r) => r.tag.endsWith(".count")).map((r) => `${r.tag}@${r.sourceTs}`);
      assert.equal(new Set(ends).size, ends.length);
    }),
    { numRuns: 150 },
  );
});

Deno.test("window property: a sliding window counts each record size/hop times", () => {
  fc.assert(
    fc.property(stream, fc.integer({ min: 1, max: 20 }), (pts, batch) => {
      const step = createWindow({ size: "6s", hop: "2s", aggregates: ["count", "sum"] });
      const out = feed(step, pts, batch, 10_000_000_000);
      const n = out.filter((r) => r.tag.endsWith(".count")).reduce(
        (a, r) => a + (r.value as number),
        0,
      );
      const s = out.filter((r) => r.tag.endsWith(".sum")).reduce(
        (a, r) => a + (r.value as number),
        0,
      );
      assert.equal(n, pts.length * 3);
      assert.equal(s, pts.reduce((a, p) => a + p.v, 0) * 3);
    }),
    { numRuns: 150 },
  );
});

Deno.test("window property: out-of-order records within the lateness are counted once, later ones dropped", () => {
  fc.assert(
    fc.property(
      stream,
      fc.array(fc.integer({ min: 0, max: 20_000 }), { maxLength: 300 }),
      (pts, jitter) => {
        // Shuffle time order by delaying some records' arrival (their timestamps unchanged).
        const arrivals = pts.map((p, i) => ({ p, at: p.ts + (jitter[i] ?? 0) }))
          .sort((a, b) => a.at - b.at).map((x) => x.p);
        const step = createWindow({ size: "5s", aggregates: ["count"], lateness: "10s" });
        const out = feed(step, arrivals, 1, 10_000_000_000);
        const counted = out.reduce((a, r) => a + (r.value as number), 0);
        const st = step.stats();
        // Every record was either counted in exactly one window or dropped as late.
        assert.equal(counted + st.late, pts.length);
        // A record is late only when the watermark passed its window's end before it arrived.
        let maxTs = -Infinity, expectedLate = 0;
        for (const p of arrivals) {
          maxTs = Math.max(maxTs, p.ts);
          const end = Math.floor(p.ts / 5000) * 5000 + 5000;
          if (end <= maxTs - 10_000) expectedLate++;
        }
        assert.equal(st.late, expectedLate);
        // Jitter within the lateness never loses a record.
        if (jitter.every((j) => j <= 10_000)) assert.equal(st.late, 0);
      },
    ),
    { numRuns: 150 },
  );
});
