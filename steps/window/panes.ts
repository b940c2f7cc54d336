/**
 * @module
 * Partial aggregates of windows, per key, in one Float64Array ring (the "panes" technique:
 * a window of `size` advancing by `hop` is the merge of `size / pane` panes of length
 * `pane = gcd(size, hop)`). A record updates one pane in O(1); closing a window merges its
 * panes. Memory is `keys × ringPanes × 15` doubles whatever the record rate, which is what
 * lets a one-minute window over 10,000 tags polled at 100 Hz run without buffering 60 million
 * points.
 *
 * Mean and variance are kept with Welford's update and merged with Chan's formula (no
 * catastrophic cancellation from sum-of-squares on large offsets such as 4-20 mA raw counts).
 * The integral is the trapezoid rule over consecutive records of the key, kept as the part
 * inside each pane plus the segments that join panes, added when panes are merged.
 */

/** Field offsets inside one pane. */
export const P = {
  id: 0,
  n: 1,
  mean: 2,
  m2: 3,
  min: 4,
  max: 5,
  firstTs: 6,
  first: 7,
  lastTs: 8,
  last: 9,
  integral: 10,
  span: 11,
  bad: 12,
  uncertain: 13,
  sum: 14,
} as const;
/** Doubles per pane. */
export const PANE_FIELDS = 15;

/** The merge of consecutive panes: one window's aggregates before they are named. */
export class WindowAcc {
  n = 0;
  mean = 0;
  m2 = 0;
  min = Infinity;
  max = -Infinity;
  firstTs = NaN;
  first = NaN;
  lastTs = NaN;
  last = NaN;
  integral = 0;
  span = 0;
  bad = 0;
  uncertain = 0;
  /** Kept beside the mean: exact for integer inputs (counters), where `mean * n` is not. */
  sum = 0;

  reset(): void {
    this.n = 0;
    this.mean = 0;
    this.m2 = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.firstTs = NaN;
    this.first = NaN;
    this.lastTs = NaN;
    this.last = NaN;
    this.integral = 0;
    this.span = 0;
    this.bad = 0;
    this.uncertain = 0;
    this.sum = 0;
  }

  /** Adds pane `o` of `a` (panes must come in time order). */
  merge(a: Float64Array, o: number): void {
    this.bad += a[o + P.bad]!;
    this.uncertain += a[o + P.uncertain]!;
    const nb = a[o + P.n]!;
    if (nb === 0) return;
    this.sum += a[o + P.sum]!;
    const na = this.n;
    if (na === 0) {
      this.n = nb;
      this.mean = a[o + P.mean]!;
      this.m2 = a[o + P.m2]!;
      this.min = a[o + P.min]!;
      this.max = a[o + P.max]!;
      this.firstTs = a[o + P.firstTs]!;
      this.first = a[o + P.first]!;
      this.lastTs = a[o + P.lastTs]!;
      this.last = a[o + P.last]!;
      this.integral = a[o + P.integral]!;
      this.span = a[o + P.span]!;
      return;
    }
    const n = na + nb;
    const mb = a[o + P.mean]!;
    const d = mb - this.mean;
    this.mean += d * nb / n;
    this.m2 += a[o + P.m2]! + d * d * na * nb / n;
    this.n = n;
    const mn = a[o + P.min]!, mx = a[o + P.max]!;
    if (mn < this.min) this.min = mn;
    if (mx > this.max) this.max = mx;
    const fts = a[o + P.firstTs]!;
    // The segment joining the previous pane's last record to this pane's first one.
    if (fts > this.lastTs) {
      const dt = fts - this.lastTs;
      this.integral += (this.last + a[o + P.first]!) * 0.5 * dt;
      this.span += dt;
    }
    if (fts < this.firstTs) {
      this.firstTs = fts;
      this.first = a[o + P.first]!;
    }
    const lts = a[o + P.lastTs]!;
    if (lts >= this.lastTs) {
      this.lastTs = lts;
      this.last = a[o + P.last]!;
    }
    this.integral += a[o + P.integral]!;
    this.span += a[o + P.span]!;
  }
}

/**
 * Adds a value to pane `o` of `a` (offsets written out: this runs once per record), resetting it first when it held another pane id.
 * Returns true when the record arrived out of time order inside its pane (it then counts
 * in every aggregate but the integral).
 */
export function addToPane(a: Float64Array, o: number, id: number, ts: number, v: number): boolean {
  if (a[o + 0] !== id) clearPane(a, o, id);
  const n = a[o + 1]! + 1;
  a[o + 1] = n;
  a[o + 14] = a[o + 14]! + v;
  const mean = a[o + 2]!;
  const d = v - mean;
  const m = mean + d / n;
  a[o + 2] = m;
  a[o + 3] = a[o + 3]! + d * (v - m);
  if (v < a[o + 4]!) a[o + 4] = v;
  if (v > a[o + 5]!) a[o + 5] = v;
  if (n === 1) {
    a[o + 6] = ts;
    a[o + 7] = v;
    a[o + 8] = ts;
    a[o + 9] = v;
    return false;
  }
  const lts = a[o + 8]!;
  if (ts >= lts) {
    const dt = ts - lts;
    a[o + 10] = a[o + 10]! + (a[o + 9]! + v) * 0.5 * dt;
    a[o + 11] = a[o + 11]! + dt;
    a[o + 8] = ts;
    a[o + 9] = v;
    return false;
  }
  if (ts < a[o + 6]!) {
    a[o + 6] = ts;
    a[o + 7] = v;
  }
  return true;
}

/** Counts an excluded (bad) or flagged (uncertain) input in pane `o`. */
export function countInPane(a: Float64Array, o: number, id: number, field: number): void {
  if (a[o + P.id] !== id) clearPane(a, o, id);
  a[o + field] = a[o + field]! + 1;
}

/** Empties pane `o` and gives it `id`. */
export function clearPane(a: Float64Array, o: number, id: number): void {
  a[o + P.id] = id;
  a[o + P.n] = 0;
  a[o + P.mean] = 0;
  a[o + P.m2] = 0;
  a[o + P.min] = Infinity;
  a[o + P.max] = -Infinity;
  a[o + P.firstTs] = NaN;
  a[o + P.first] = NaN;
  a[o + P.lastTs] = NaN;
  a[o + P.last] = NaN;
  a[o + P.integral] = 0;
  a[o + P.span] = 0;
  a[o + P.bad] = 0;
  a[o + P.uncertain] = 0;
  a[o + P.sum] = 0;
}

/**
 * A key's raw values kept sorted by time (for percentiles): two parallel Float64Array
 * deques. Appending in time order is O(1); an out-of-order value is inserted by shifting.
 */
export class PointRing {
  ts: Float64Array;
  v: Float64Array;
  head = 0;
  len = 0;

  constructor(capacity = 16) {
    this.ts = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }

  /** Adds a point; returns false when the ring is full at `max` points (point dropped). */
  add(ts: number, v: number, max: number): boolean {
    if (this.len >= max) return false;
    if (this.head + this.len >= this.ts.length) this.#compactOrGrow();
    let i = this.head + this.len;
    const t = this.ts, vv = this.v;
    while (i > this.head && t[i - 1]! > ts) {
      t[i] = t[i - 1]!;
      vv[i] = vv[i - 1]!;
      i--;
    }
    t[i] = ts;
    vv[i] = v;
    this.len++;
    return true;
  }

  /** Drops the oldest point. */
  shift(): void {
    if (this.len === 0) return;
    this.head++;
    if (--this.len === 0) this.head = 0;
  }

  /** Drops the points older than `ts`. */
  evictBefore(ts: number): void {
    const t = this.ts;
    while (this.len > 0 && t[this.head]! < ts) {
      this.head++;
      this.len--;
    }
    if (this.len === 0) this.head = 0;
  }

  /** Copies the values with `from <= ts < to` into `out` (grown when needed); returns count. */
  range(from: number, to: number, scratch: { a: Float64Array }): number {
    let k = 0;
    const t = this.ts, end = this.head + this.len;
    for (let i = this.head; i < end; i++) {
      const x = t[i]!;
      if (x < from) continue;
      if (x >= to) break;
      if (k >= scratch.a.length) {
        const g = new Float64Array(scratch.a.length * 2);
        g.set(scratch.a);
        scratch.a = g;
      }
      scratch.a[k++] = this.v[i]!;
    }
    return k;
  }

  /** Bytes held by the typed arrays. */
  get bytes(): number {
    return this.ts.byteLength + this.v.byteLength;
  }

  #compactOrGrow(): void {
    if (this.head > 0 && this.len < this.ts.length / 2) {
      this.ts.copyWithin(0, this.head, this.head + this.len);
      this.v.copyWithin(0, this.head, this.head + this.len);
      this.head = 0;
      return;
    }
    const cap = this.ts.length * 2;
    const t = new Float64Array(cap), v = new Float64Array(cap);
    t.set(this.ts.subarray(this.head, this.head + this.len));
    v.set(this.v.subarray(this.head, this.head + this.len));
    this.ts = t;
    this.v = v;
    this.head = 0;
  }
}

/**
 * The `q`-quantile (0..1) of the first `n` values of `a` (sorted in place), linear
 * interpolation between closest ranks (NumPy's default, Excel's PERCENTILE.INC).
 */
export function quantile(a: Float64Array, n: number, q: number): number {
  if (n === 0) return NaN;
  const s = a.subarray(0, n).sort();
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}
