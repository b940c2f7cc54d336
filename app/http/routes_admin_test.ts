/**
 * @module
 * Downsampling history: buckets by time, mean/min/max of good numbers, worst quality.
 */

import { assertEquals } from "../../tests/_assert.ts";
import type { DataRecord } from "../../engine/record.ts";
import { downsample } from "./routes_admin.ts";

const rec = (ts: number, value: DataRecord["value"], quality: DataRecord["quality"] = "good") => ({
  device: "d",
  tag: "t",
  value,
  quality,
  sourceTs: ts,
  gatewayTs: ts,
  seq: ts,
});

Deno.test("downsample returns records as they are when they fit", () => {
  assertEquals(downsample([rec(1, 5), rec(2, true)], 5), [
    { ts: 1, value: 5, count: 1, quality: "good" },
    { ts: 2, value: true, count: 1, quality: "good" },
  ]);
});

Deno.test("downsample buckets by time: mean, min, max of good numbers and the worst quality", () => {
  const records = [
    rec(0, 1),
    rec(10, 3),
    rec(20, 100, "bad"),
    rec(30, 10),
    rec(40, 20, "uncertain"),
  ];
  const out = downsample(records, 2);
  assertEquals(out, [
    { ts: 10, value: 2, min: 1, max: 3, count: 2, quality: "good" },
    // The bad 100 counts but takes no part in the mean; bad outranks uncertain.
    { ts: 30, value: 15, min: 10, max: 20, count: 3, quality: "bad" },
  ]);
  // Text values keep the last of their bucket.
  assertEquals(downsample([rec(0, "a"), rec(1, "b"), rec(2, "c")], 1), [
    { ts: 2, value: "c", count: 3, quality: "good" },
  ]);
});
