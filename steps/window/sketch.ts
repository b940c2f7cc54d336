/**
 * @module
 * Streaming percentiles with a stated relative error: a DDSketch (Masson, Rim, Lee, VLDB 2019)
 * per key and per pane, in typed arrays.
 *
 * A value `x > 0` falls in bucket `k = ⌈log_γ x⌉` with `γ = (1 + α) / (1 − α)`; the bucket
 * reports `2γ^k / (γ + 1)`, which is within `α` (relative) of every value of the bucket.
 * Negative values use a second store on `−x`, zeros a counter. So the value at any rank is
 * known to ±α, and `pNN` (interpolated between the two closest ranks, as the exact mode and
 * Excel's PERCENTILE.INC do) is within ±α of the exact percentile whenever the two
 * neighbouring ranks have the same sign (otherwise within α of the larger of the two
 * magnitudes). Results are clamped to the window's exact min and max, so a constant signal,
 * `p0` and `p100` come out exact.
 *
 * Why DDSketch and not KLL or t-digest: plant users read a percentile as a value ("p99 of the
 * motor current is 41.2 A ± 1 %"), which is DDSketch's guarantee; KLL bounds the rank error
 * instead, so a p99 over a heavy tail may be far off in value. DDSketch merges exactly
 * (bucket counts add), which is what sliding windows need: a window is the merge of its
 * panes, and merging loses nothing, so sliding and tumbling windows report the same as one
 * sketch over the window's values. It is deterministic (golden flow tests) and cheap per
 * record (one `Math.log`, one increment).
 *
 * Memory: each key has, per sign, one `Uint32Array` holding `ring` panes of `w` bins, `w`
 * being the widest bucket span any of its panes has needed (doubling from 16, at most
 * `maxBins`, enough for 18 decades: 2,073 bins at α = 1 %, 20,719 at 0.1 %). A pane whose
 * magnitudes span more than that merges its smallest ones into its lowest bin (counted in
 * `collapsed`; the high percentiles keep their accuracy). Nothing is allocated per record:
 * only when a key first needs a store or a wider one.
 */

/** Decades of magnitude a pane covers at full accuracy, per sign. */
export const DECADES = 18;
const INITIAL_BINS = 16;
const EMPTY_MIN = 0x7fffffff;
const EMPTY_MAX = -0x80000000;

/** Per-pane DDSketches of every key of a window step, and the merge of a window's panes. */
export class PaneSketches {
  /** Relative accuracy. */
  readonly alpha: number;
  readonly gamma: number;
  readonly ring: number;
  /** Most bins per pane and sign. */
  readonly maxBins: number;
  /** Panes whose span exceeded `MAX_BINS` buckets (their smallest magnitudes merged). */
  collapsed = 0;
  /** Non-finite values left out of the sketches. */
  nonFinite = 0;
  readonly #lnGamma: number;
  readonly #inv: number;
  #capacity = 0; // keys
  #id = new Float64Array(0); // per slot (key * ring + pane slot): the pane id held
  #zero = new Float64Array(0);
  #count = new Float64Array(0);
  // Per sign (0: positive, 1: negative), per slot: index of bin 0, occupied min/max index.
  #lo = [new Int32Array(0), new Int32Array(0)];
  #mn = [new Int32Array(0), new Int32Array(0)];
  #mx = [new Int32Array(0), new Int32Array(0)];
  // Per sign, per key: the bins of the key's `ring` panes and their width.
  #bins: (Uint32Array | undefined)[][] = [[], []];
  #w = [new Int32Array(0), new Int32Array(0)];
  // The merge of a window's panes.
  #sBins = [new Float64Array(64), new Float64Array(64)];
  #sLo = [0, 0];
  #sMn = [0, 0];
  #sMx = [0, 0];
  #sZero = 0;
  #sCount = 0;

  constructor(alpha: number, ring: number) {
    if (!(alpha > 0 && alpha < 1)) {
      throw new RangeError(`Cannot use accuracy ${alpha}: it must be in (0, 1)`);
    }
    this.alpha = alpha;
    this.gamma = (1 + alpha) / (1 - alpha);
    this.#lnGamma = Math.log(this.gamma);
    this.#inv = 1 / this.#lnGamma;
    this.ring = ring;
    this.maxBins = Math.ceil(DECADES * Math.LN10 * this.#inv) + 1;
  }

  /** Makes room for keys `0..keys-1`. */
  ensureKeys(keys: number): void {
    if (keys <= this.#capacity) return;
    const cap = Math.max(64, this.#capacity * 2, keys);
    const slots = cap * this.ring;
    const f64 = (a: Float64Array, fill = 0) => {
      const b = new Float64Array(slots).fill(fill);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array, fill: number, n = slots) => {
      const b = new Int32Array(n).fill(fill);
      b.set(a);
      return b;
    };
    this.#id = f64(this.#id, NaN);
    this.#zero = f64(this.#zero);
    this.#count = f64(this.#count);
    for (let s = 0; s < 2; s++) {
      this.#lo[s] = i32(this.#lo[s]!, 0);
      this.#mn[s] = i32(this.#mn[s]!, EMPTY_MIN);
      this.#mx[s] = i32(this.#mx[s]!, EMPTY_MAX);
      this.#w[s] = i32(this.#w[s]!, 0, cap);
    }
    this.#capacity = cap;
  }

  /** Adds `v` to pane `paneId` of `key` (held in slot `paneId % ring`). */
  add(key: number, paneId: number, v: number): void {
    const slot = paneId % this.ring;
    const si = key * this.ring + slot;
    if (this.#id[si] !== paneId) this.clear(key, slot, paneId);
    if (v === 0) {
      this.#zero[si]!++;
      this.#count[si]!++;
      return;
    }
    if (!Number.isFinite(v)) {
      this.nonFinite++;
      return;
    }
    this.#count[si]!++;
    const s = v > 0 ? 0 : 1;
    const k = Math.ceil(Math.log(v > 0 ? v : -v) * this.#inv);
    const lo = this.#lo[s]![si]!;
    const w = this.#w[s]![key]!;
    if (k >= lo && k < lo + w) {
      this.#bins[s]![key]![slot * w + k - lo]!++;
      const mn = this.#mn[s]!, mx = this.#mx[s]!;
      if (k < mn[si]!) mn[si] = k;
      if (k > mx[si]!) mx[si] = k;
      return;
    }
    this.#place(s, key, slot, si, k);
  }

  /** Empties slot `slot` of `key` and gives it `paneId`. */
  clear(key: number, slot: number, paneId: number): void {
    const si = key * this.ring + slot;
    this.#id[si] = paneId;
    this.#zero[si] = 0;
    this.#count[si] = 0;
    for (let s = 0; s < 2; s++) {
      const mn = this.#mn[s]![si]!;
      if (mn !== EMPTY_MIN) {
        const w = this.#w[s]![key]!, lo = this.#lo[s]![si]!;
        this.#bins[s]![key]!.fill(0, slot * w + mn - lo, slot * w + this.#mx[s]![si]! - lo + 1);
      }
      this.#mn[s]![si] = EMPTY_MIN;
      this.#mx[s]![si] = EMPTY_MAX;
    }
  }

  /** The slow path of `add`: bucket `k` is outside the pane's bins (grow, move or collapse). */
  #place(s: number, key: number, slot: number, si: number, k: number): void {
    const mnA = this.#mn[s]!, mxA = this.#mx[s]!, loA = this.#lo[s]!;
    const empty = mnA[si] === EMPTY_MIN;
    let mn = empty ? k : Math.min(mnA[si]!, k);
    const mx = empty ? k : Math.max(mxA[si]!, k);
    let w = this.#w[s]![key]!;
    const span = mx - mn + 1;
    const maxBins = this.maxBins;
    if (span > w && w < maxBins) {
      let nw = Math.max(INITIAL_BINS, w);
      while (nw < span && nw < maxBins) nw *= 2;
      nw = Math.min(nw, maxBins);
      const old = this.#bins[s]![key];
      const grown = new Uint32Array(this.ring * nw);
      if (old) {
        for (let p = 0; p < this.ring; p++) grown.set(old.subarray(p * w, p * w + w), p * nw);
      }
      this.#bins[s]![key] = grown;
      this.#w[s]![key] = w = nw;
    }
    const bins = this.#bins[s]![key]!;
    const base = slot * w;
    let lo = loA[si]!;
    let folded = 0;
    if (span > w) {
      // Beyond maxBins: the smallest magnitudes merge into the lowest bin kept.
      this.collapsed++;
      const floor = mx - w + 1;
      if (!empty) {
        for (let j = mnA[si]!; j <= mxA[si]! && j < floor; j++) {
          folded += bins[base + j - lo]!;
          bins[base + j - lo] = 0;
        }
      }
      mn = floor;
      if (k < floor) k = floor;
    }
    if (empty) {
      lo = mn - ((w - (mx - mn + 1)) >> 1);
    } else if (mn < lo || mx >= lo + w) {
      // Move the bins so that [mn, mx] sits in the middle of the pane's w bins.
      const nlo = mn - ((w - (mx - mn + 1)) >> 1);
      const d = lo - nlo; // > 0: the data moves right
      if (d > 0) {
        bins.copyWithin(base + d, base, base + w - d);
        bins.fill(0, base, base + Math.min(d, w));
      } else if (d < 0) {
        bins.copyWithin(base, base - d, base + w);
        bins.fill(0, base + Math.max(0, w + d), base + w);
      }
      lo = nlo;
    }
    loA[si] = lo;
    if (folded > 0) bins[base + mn - lo] = bins[base + mn - lo]! + folded;
    bins[base + k - lo] = bins[base + k - lo]! + 1;
    mnA[si] = mn;
    mxA[si] = mx;
  }

  /**
   * Merges panes `first..first+n-1` of `key` (those still holding their pane id) into the
   * window's sketch; returns the number of values merged.
   */
  merge(key: number, first: number, n: number): number {
    const ring = this.ring;
    this.#sZero = 0;
    this.#sCount = 0;
    for (let s = 0; s < 2; s++) {
      let mn = EMPTY_MIN, mx = EMPTY_MAX;
      for (let p = first; p < first + n; p++) {
        const si = key * ring + (p % ring);
        if (this.#id[si] !== p || this.#mn[s]![si] === EMPTY_MIN) continue;
        if (this.#mn[s]![si]! < mn) mn = this.#mn[s]![si]!;
        if (this.#mx[s]![si]! > mx) mx = this.#mx[s]![si]!;
      }
      this.#sMn[s] = mn;
      this.#sMx[s] = mx;
      if (mn === EMPTY_MIN) continue;
      const len = mx - mn + 1;
      if (this.#sBins[s]!.length < len) this.#sBins[s] = new Float64Array(len * 2);
      const out = this.#sBins[s]!;
      out.fill(0, 0, len);
      this.#sLo[s] = mn;
      const bins = this.#bins[s]![key]!, w = this.#w[s]![key]!;
      for (let p = first; p < first + n; p++) {
        const slot = p % ring, si = key * ring + slot;
        if (this.#id[si] !== p || this.#mn[s]![si] === EMPTY_MIN) continue;
        const lo = this.#lo[s]![si]!, a = this.#mn[s]![si]!, b = this.#mx[s]![si]!;
        const from = slot * w - lo;
        for (let j = a; j <= b; j++) out[j - mn] = out[j - mn]! + bins[from + j]!;
      }
    }
    for (let p = first; p < first + n; p++) {
      const si = key * ring + (p % ring);
      if (this.#id[si] !== p) continue;
      this.#sZero += this.#zero[si]!;
      this.#sCount += this.#count[si]!;
    }
    return this.#sCount;
  }

  /**
   * The `q`-quantile (0..1) of the last `merge`, interpolated between the two closest ranks,
   * clamped to `[min, max]` (the window's exact extremes).
   */
  quantile(q: number, min: number, max: number): number {
    const n = this.#sCount;
    if (n === 0) return NaN;
    const h = (n - 1) * q;
    const r = Math.floor(h);
    // The first and last ranks are the window's exact min and max.
    const at = (r: number) => r === 0 ? min : r === n - 1 ? max : this.#atRank(r);
    let v = at(r);
    if (h > r) v += (h - r) * (at(r + 1) - v);
    return v < min ? min : v > max ? max : v;
  }

  /** The value of the bucket holding rank `r` (0-based) of the merged sketch. */
  #atRank(r: number): number {
    let cum = 0;
    const c = 2 / (1 + this.gamma), lg = this.#lnGamma;
    if (this.#sMn[1] !== EMPTY_MIN) {
      const b = this.#sBins[1]!, lo = this.#sLo[1]!;
      for (let j = this.#sMx[1]!; j >= this.#sMn[1]!; j--) {
        cum += b[j - lo]!;
        if (cum > r) return -c * Math.exp(j * lg);
      }
    }
    cum += this.#sZero;
    if (cum > r) return 0;
    if (this.#sMn[0] !== EMPTY_MIN) {
      const b = this.#sBins[0]!, lo = this.#sLo[0]!;
      for (let j = this.#sMn[0]!; j <= this.#sMx[0]!; j++) {
        cum += b[j - lo]!;
        if (cum > r) return c * Math.exp(j * lg);
      }
    }
    return c * Math.exp(this.#sMx[0]! * lg); // r beyond the count: the top bucket
  }

  /** Bytes held (bins and per-pane bookkeeping). */
  get bytes(): number {
    let b = this.#id.byteLength + this.#zero.byteLength + this.#count.byteLength;
    for (let s = 0; s < 2; s++) {
      b += this.#lo[s]!.byteLength + this.#mn[s]!.byteLength + this.#mx[s]!.byteLength +
        this.#w[s]!.byteLength;
      for (const x of this.#bins[s]!) b += x?.byteLength ?? 0;
    }
    return b;
  }

  /** Bins in use over all keys and panes. */
  get bins(): number {
    let n = 0;
    for (let s = 0; s < 2; s++) for (const x of this.#bins[s]!) n += x?.length ?? 0;
    return n;
  }

  /** The state of keys `0..keys-1` as Float64Arrays (for a snapshot). */
  toArrays(keys: number): Record<string, Float64Array> {
    const slots = keys * this.ring;
    const out: Record<string, Float64Array> = {
      skId: this.#id.slice(0, slots),
      skZero: this.#zero.slice(0, slots),
      skCount: this.#count.slice(0, slots),
    };
    for (let s = 0; s < 2; s++) {
      out[`skLo${s}`] = Float64Array.from(this.#lo[s]!.subarray(0, slots));
      out[`skMn${s}`] = Float64Array.from(this.#mn[s]!.subarray(0, slots));
      out[`skMx${s}`] = Float64Array.from(this.#mx[s]!.subarray(0, slots));
      const w = this.#w[s]!.subarray(0, keys);
      out[`skW${s}`] = Float64Array.from(w);
      let total = 0;
      for (let k = 0; k < keys; k++) total += w[k]! * this.ring;
      const all = new Float64Array(total);
      let at = 0;
      for (let k = 0; k < keys; k++) {
        const b = this.#bins[s]![k];
        if (b) all.set(b, at);
        at += w[k]! * this.ring;
      }
      out[`skBins${s}`] = all;
    }
    return out;
  }

  /** Takes the state written by `toArrays` (keys already made room for). */
  fromArrays(keys: number, a: Record<string, Float64Array | Uint8Array>): void {
    this.ensureKeys(keys);
    const slots = keys * this.ring;
    this.#id.set((a.skId as Float64Array).subarray(0, slots));
    this.#zero.set((a.skZero as Float64Array).subarray(0, slots));
    this.#count.set((a.skCount as Float64Array).subarray(0, slots));
    for (let s = 0; s < 2; s++) {
      this.#lo[s]!.set(a[`skLo${s}`] as Float64Array);
      this.#mn[s]!.set(a[`skMn${s}`] as Float64Array);
      this.#mx[s]!.set(a[`skMx${s}`] as Float64Array);
      const w = a[`skW${s}`] as Float64Array, all = a[`skBins${s}`] as Float64Array;
      let at = 0;
      for (let k = 0; k < keys; k++) {
        const n = w[k]! * this.ring;
        this.#w[s]![k] = w[k]!;
        this.#bins[s]![k] = n > 0 ? Uint32Array.from(all.subarray(at, at + n)) : undefined;
        at += n;
      }
    }
  }
}
