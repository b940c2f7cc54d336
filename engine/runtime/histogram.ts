/**
 * @module
 * A fixed-bucket histogram for metrics (read latency, poll lateness): the bucket bounds are
 * set once and the counts live in a typed array, so an observation is a short scan and two
 * additions, with no allocation. Counts are per bucket (not cumulative); the exposition
 * (`app/http/metrics.ts`) accumulates them as Prometheus expects.
 */

/** Bucket bounds (ms) of read latencies: a fast loopback read to a device timing out. */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  1000,
  2000,
  5000,
];

/** Bucket bounds (ms) of poll lateness: how long after its deadline a poll started. */
export const LATENESS_BUCKETS_MS: readonly number[] = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  250,
  500,
  1000,
];

/**
 * Counts of observations by upper bound, plus their sum.
 *
 * @example
 * ```ts
 * const h = new Histogram([1, 10, 100]);
 * h.observe(4); // counts: [0, 1, 0, 0]
 * ```
 */
export class Histogram {
  /** Upper bounds, increasing; the implicit last bucket is +Inf. Shared by the histograms of one bucket set. */
  readonly bounds: readonly number[];
  /** Observations per bucket (`bounds.length + 1` entries, the last for +Inf). */
  readonly counts: number[];
  /** Sum of the observed values. */
  sum = 0;
  /** Number of observations. */
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = sharedBounds(bounds);
    // A plain array of doubles: a typed array costs an ArrayBuffer and an off-heap store
    // besides, and a gateway keeps two histograms a device and one a poll.
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  /** Records one value (a NaN is ignored: it belongs to no bucket). */
  observe(v: number): void {
    if (v !== v) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }

  /** The cumulative counts (`le` buckets, the last one +Inf), for an exposition. */
  cumulative(): number[] {
    const out = new Array<number>(this.counts.length);
    let n = 0;
    for (let i = 0; i < out.length; i++) out[i] = n += this.counts[i]!;
    return out;
  }
}

/** Checked, frozen copies of the bucket sets in use, by the array given. */
const BOUNDS = new WeakMap<readonly number[], readonly number[]>();

function sharedBounds(bounds: readonly number[]): readonly number[] {
  let b = BOUNDS.get(bounds);
  if (b) return b;
  for (let i = 1; i < bounds.length; i++) {
    if (!(bounds[i]! > bounds[i - 1]!)) {
      throw new RangeError(`Histogram bounds must increase, got ${bounds.join(", ")}`);
    }
  }
  b = Object.freeze([...bounds]);
  BOUNDS.set(bounds, b);
  return b;
}
