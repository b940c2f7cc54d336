/**
 * @module
 * A token bucket for log lines: a burst, then a steady rate; what it drops it counts, so
 * the next line that passes can say how many were lost.
 */

/** A token bucket over a monotonic clock in ms. */
export class RateLimiter {
  #tokens: number;
  #last: number;
  #dropped = 0;

  /**
   * @param burst lines allowed at once
   * @param perSecond lines allowed per second afterwards
   * @param now monotonic clock in ms
   */
  constructor(
    readonly burst: number,
    readonly perSecond: number,
    readonly now: () => number = () => performance.now(),
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  /**
   * Takes a token. Returns -1 when the line must be dropped, else the number of lines
   * dropped since the last one that passed.
   */
  take(): number {
    const t = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) * this.perSecond) / 1000);
    this.#last = t;
    if (this.#tokens < 1) {
      this.#dropped++;
      return -1;
    }
    this.#tokens -= 1;
    const d = this.#dropped;
    this.#dropped = 0;
    return d;
  }
}
