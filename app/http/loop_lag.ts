/**
 * @module
 * Event-loop lag, for `/metrics`: a timer due every `everyMs` notes how late it fires. A
 * blocked loop (a long synchronous parse, a GC pause, a busy user function in-process) shows
 * as lag; an idle one costs one timer callback per interval. The worst lag since the last
 * scrape is kept, so that a spike between two scrapes is not missed.
 */

/** Options of {@linkcode LoopLagMonitor}. */
export interface LoopLagOptions {
  /** Interval of the probe timer, ms (default 500). */
  everyMs?: number;
}

/**
 * Measures how late a periodic timer fires. Start it with the server, stop it on close.
 *
 * @example
 * ```ts
 * const lag = new LoopLagMonitor();
 * lag.start();
 * // … lag.lastMs, lag.takeMaxMs()
 * lag.stop();
 * ```
 */
export class LoopLagMonitor {
  /** Lag of the last probe, ms. */
  lastMs = 0;
  #maxMs = 0;
  #everyMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #due = 0;

  constructor(o: LoopLagOptions = {}) {
    this.#everyMs = o.everyMs ?? 500;
    if (!(this.#everyMs > 0)) {
      throw new RangeError(`Loop lag probe interval must be positive, got ${this.#everyMs}`);
    }
  }

  /** Starts probing (idempotent). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#due = performance.now() + this.#everyMs;
    const timer = setInterval(() => {
      const now = performance.now();
      this.lastMs = Math.max(0, now - this.#due);
      if (this.lastMs > this.#maxMs) this.#maxMs = this.lastMs;
      this.#due = now + this.#everyMs;
    }, this.#everyMs);
    // The probe never keeps a process alive on its own.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** The worst lag since the last call, ms; resets it. */
  takeMaxMs(): number {
    const m = Math.max(this.#maxMs, this.lastMs);
    this.#maxMs = 0;
    return m;
  }

  /** Stops probing. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
