/**
 * @module
 * Loss accounting of the soak test, by sequence numbers.
 *
 * Every record a poll produces carries a sequence number from a per-device counter that
 * hands out consecutive numbers (a poll reserves its numbers only after its read, so a
 * skipped poll uses none): what device D produced is exactly the range `[first, last]` that
 * the gateway reports in its final "Process stats" line (`sequences`). While it runs, the
 * last sequence seen per device is a lower bound of that range.
 *
 * **Lost** = the numbers of that range that never arrived at a destination, counted per
 * device: `lost = (last - first + 1) - |distinct numbers received within [first, last]|`.
 * Records with bad quality (a device down, a function that threw) are records: they count.
 * Delivery is at-least-once, so a number received twice is a duplicate (counted and
 * reported, not an error); a number outside the range is "unexpected" (reported: a
 * destination holding numbers nobody produced is a bug too).
 */

/** Numbers per chunk of a {@linkcode SeqSet} (one bit each). */
const CHUNK_BITS = 1 << 16;

/**
 * A set of sequence numbers (integers up to 2^53) that counts repeats: a sparse bitmap
 * in 8 KB chunks, so an hour of a few hundred records a second costs about 100 KB.
 */
export class SeqSet {
  #chunks = new Map<number, Uint8Array>();
  /** Distinct numbers. */
  size = 0;
  /** Numbers added again after the first time. */
  duplicates = 0;
  /** Lowest and highest number added (Infinity and -Infinity while empty). */
  min = Infinity;
  max = -Infinity;

  /** Adds `n`; returns true when it was new. */
  add(n: number): boolean {
    if (!Number.isSafeInteger(n)) throw new RangeError(`Cannot track sequence ${n}`);
    const key = Math.floor(n / CHUNK_BITS);
    const bit = n - key * CHUNK_BITS;
    let c = this.#chunks.get(key);
    if (!c) this.#chunks.set(key, c = new Uint8Array(CHUNK_BITS / 8));
    const mask = 1 << (bit & 7);
    if (c[bit >> 3]! & mask) {
      this.duplicates++;
      return false;
    }
    c[bit >> 3]! |= mask;
    this.size++;
    if (n < this.min) this.min = n;
    if (n > this.max) this.max = n;
    return true;
  }

  /** Whether `n` was added. */
  has(n: number): boolean {
    const key = Math.floor(n / CHUNK_BITS);
    const bit = n - key * CHUNK_BITS;
    const c = this.#chunks.get(key);
    return c !== undefined && (c[bit >> 3]! & (1 << (bit & 7))) !== 0;
  }

  /** How many numbers of `[from, to]` (inclusive) were added. */
  countIn(from: number, to: number): number {
    let n = 0;
    for (let s = from; s <= to; s++) if (this.has(s)) n++;
    return n;
  }
}

/** Received sequence numbers per device. */
export type Received = Map<string, SeqSet>;

/** Adds a received record to `received`. */
export function receive(received: Received, device: string, seq: number): void {
  let s = received.get(device);
  if (!s) received.set(device, s = new SeqSet());
  s.add(seq);
}

/**
 * The ranges to account against when the gateway died before reporting its own: per
 * device, from the lowest to the highest number any destination received. A lower bound:
 * records after the last one that reached a destination are not counted.
 */
export function receivedRanges(...all: Received[]): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const received of all) {
    for (const [device, s] of received) {
      if (s.size === 0) continue;
      const r = out[device];
      out[device] = r ? [Math.min(r[0], s.min), Math.max(r[1], s.max)] : [s.min, s.max];
    }
  }
  return out;
}

/** The outcome of {@linkcode accountLosses}. */
export interface LossReport {
  /** Records produced (the sum of the range lengths). */
  produced: number;
  /** Distinct produced records that arrived. */
  delivered: number;
  /** Produced records that never arrived. */
  lost: number;
  /** Copies beyond the first. */
  duplicates: number;
  /** Distinct numbers received outside every produced range (or from unknown devices). */
  unexpected: number;
  /** Up to 10 missing records, `device#seq`, for the report. */
  missing: string[];
}

/**
 * Checks what arrived against what was produced (see the module comment).
 *
 * @example
 * ```ts
 * const r = accountLosses({ plc: [100, 104] }, received);
 * if (r.lost > 0) console.log(`lost ${r.lost}: ${r.missing.join(", ")}`);
 * ```
 */
export function accountLosses(
  produced: Record<string, [number, number]>,
  received: Received,
): LossReport {
  const r: LossReport = {
    produced: 0,
    delivered: 0,
    lost: 0,
    duplicates: 0,
    unexpected: 0,
    missing: [],
  };
  for (const [device, [first, last]] of Object.entries(produced)) {
    const n = last - first + 1;
    r.produced += n;
    const got = received.get(device);
    let delivered = 0;
    for (let s = first; s <= last; s++) {
      if (got?.has(s)) delivered++;
      else if (r.missing.length < 10) r.missing.push(`${device}#${s}`);
    }
    r.delivered += delivered;
    r.lost += n - delivered;
  }
  for (const [device, got] of received) {
    r.duplicates += got.duplicates;
    const range = produced[device];
    r.unexpected += got.size - (range ? got.countIn(range[0], range[1]) : 0);
  }
  return r;
}
