/**
 * @module
 * Time, behind an interface so that time-dependent code can be tested without sleeping.
 */

/** A source of time. */
export interface Clock {
  /** Wall-clock time, ms since the epoch. */
  now(): number;
  /** Monotonic time in ms (never jumps with NTP). */
  monotonic(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The longest delay one timer is given, ms. `setTimeout` takes at most 2^31-1 ms (24.8 days);
 * a longer delay prints a `TimeoutOverflowWarning` and fires after 1 ms. Longer waits
 * (`every: 30d`, a yearly cron) chain timers of at most this length.
 */
export const MAX_TIMER_MS = 2 ** 30;

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const wait = Math.max(0, ms);
      const end = wait > MAX_TIMER_MS ? systemClock.monotonic() + wait : 0;
      const done = () => {
        const left = end - systemClock.monotonic();
        if (end > 0 && left > 0) {
          t = setTimeout(done, Math.min(left, MAX_TIMER_MS));
          return;
        }
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      let t = setTimeout(done, Math.min(wait, MAX_TIMER_MS));
      const onAbort = () => {
        clearTimeout(t);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};

/**
 * A clock that only moves when told to. `sleep()` resolves when `advance()` passes its
 * deadline.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(0);
 * const p = clock.sleep(100);
 * await clock.advance(100); // p is resolved
 * ```
 */
export class ManualClock implements Clock {
  #t: number;
  #mono = 0;
  #sleepers: { at: number; resolve: () => void }[] = [];

  constructor(start = 0) {
    this.#t = start;
  }
  now(): number {
    return this.#t;
  }
  monotonic(): number {
    return this.#mono;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const s = { at: this.#mono + Math.max(0, ms), resolve };
      this.#sleepers.push(s);
      signal?.addEventListener("abort", () => {
        this.#sleepers = this.#sleepers.filter((x) => x !== s);
        reject(signal.reason);
      }, { once: true });
    });
  }
  /** Moves time forward by `ms`, waking sleepers in deadline order. */
  async advance(ms: number): Promise<void> {
    const end = this.#mono + ms;
    for (;;) {
      this.#sleepers.sort((a, b) => a.at - b.at);
      const next = this.#sleepers[0];
      if (!next || next.at > end) break;
      this.#sleepers.shift();
      this.#t += next.at - this.#mono;
      this.#mono = next.at;
      next.resolve();
      // Let the woken code run before the next deadline.
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.#t += end - this.#mono;
    this.#mono = end;
  }
}
