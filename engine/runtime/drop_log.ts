/**
 * @module
 * Counts what a bounded in-memory queue drops, in records, and logs it rate-limited without
 * ever leaving any out: the first drop is logged at once, later ones at most once per
 * interval (when the next drop or the next processed item comes after it), and whatever is
 * left when the queue stops is logged by `flush()`. The `records` of all its lines add up to
 * `total`, which is what "records produced - delivered - still queued" must equal.
 */

import type { Clock } from "../clock.ts";

/** Receives one log line's worth of drops. */
export type DropReporter = (records: number, batches: number, total: number) => void;

/** A rate-limited, loss-free drop counter. */
export class DropLog {
  /** Records dropped since creation. */
  total = 0;
  #records = 0;
  #batches = 0;
  #last = -Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly report: DropReporter,
    private readonly intervalMs = 10_000,
  ) {}

  /** Counts one dropped batch of `records` records. */
  add(records: number): void {
    this.total += records;
    this.#records += records;
    this.#batches++;
    this.flush(false);
  }

  /** Whether drops wait to be logged. */
  get pending(): boolean {
    return this.#batches > 0;
  }

  /** Logs the drops not logged yet: when the interval has passed, or always with `force`. */
  flush(force = true): void {
    if (this.#batches === 0) return;
    const t = this.clock.monotonic();
    if (!force && t - this.#last < this.intervalMs) return;
    this.#last = t;
    const records = this.#records, batches = this.#batches;
    this.#records = 0;
    this.#batches = 0;
    this.report(records, batches, this.total);
  }
}
