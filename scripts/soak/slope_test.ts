import { assertEquals } from "../../tests/_assert.ts";
import { leastSquaresSlope, rssSlopeMbPerHour, warmupSeconds } from "./slope.ts";

const MB = 1024 * 1024;

Deno.test("leastSquaresSlope fits a line through noisy points", () => {
  assertEquals(leastSquaresSlope([0, 1, 2], [1, 3, 5]), 2);
  // y = 2x + noise that cancels out: the slope stays 2.
  assertEquals(leastSquaresSlope([0, 1, 2, 3], [0, 3, 3, 6]), 1.8);
  assertEquals(leastSquaresSlope([1], [1]), undefined);
  assertEquals(leastSquaresSlope([2, 2], [1, 5]), undefined);
});

Deno.test("rssSlopeMbPerHour ignores the warm-up and reports MB per hour", () => {
  // Start-up growth of 50 MB in the first 10 minutes, then +1 MB per 10 minutes.
  const samples = [{ t: 0, rss: 30 * MB }, { t: 300, rss: 80 * MB }];
  for (let t = 600; t <= 3600; t += 60) samples.push({ t, rss: (80 + (t - 600) / 600) * MB });
  const slope = rssSlopeMbPerHour(samples, 600)!;
  assertEquals(Math.round(slope * 1000) / 1000, 6);
  assertEquals(rssSlopeMbPerHour(samples.slice(0, 2), 600), undefined);
});

Deno.test("warmupSeconds is a third of the run, at most 10 minutes", () => {
  assertEquals(warmupSeconds(3), 60);
  assertEquals(warmupSeconds(60), 600);
});
