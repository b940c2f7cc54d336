/**
 * @module
 * The RSS trend of a soak run: the least-squares slope of RSS over time, in MB per hour,
 * over the samples after a warm-up (start-up allocations, caches filling, the first
 * worker restarts are not a leak).
 */

/** One RSS sample: seconds since the start of the run, bytes. */
export interface RssSample {
  t: number;
  rss: number;
}

/**
 * Least-squares slope of `y` over `x`; undefined with fewer than 2 points or no spread
 * in `x`.
 *
 * @example
 * ```ts
 * leastSquaresSlope([0, 1, 2], [1, 3, 5]); // 2
 * ```
 */
export function leastSquaresSlope(x: readonly number[], y: readonly number[]): number | undefined {
  const n = Math.min(x.length, y.length);
  if (n < 2) return undefined;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    sxy += dx * (y[i]! - my);
    sxx += dx * dx;
  }
  return sxx === 0 ? undefined : sxy / sxx;
}

/**
 * The RSS slope in MB/hour (1 MB = 2^20 bytes) of the samples taken at or after
 * `warmupS` seconds; undefined when fewer than 2 such samples.
 */
export function rssSlopeMbPerHour(
  samples: readonly RssSample[],
  warmupS: number,
): number | undefined {
  const kept = samples.filter((s) => s.t >= warmupS);
  const slope = leastSquaresSlope(kept.map((s) => s.t), kept.map((s) => s.rss));
  return slope === undefined ? undefined : (slope * 3600) / (1024 * 1024);
}

/** The warm-up of a run of `minutes`: a third of it, at most 10 minutes (seconds). */
export function warmupSeconds(minutes: number): number {
  return Math.min(600, (minutes * 60) / 3);
}
