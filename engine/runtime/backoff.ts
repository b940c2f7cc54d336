/**
 * @module
 * Exponential backoff with full jitter (AWS architecture blog's "full jitter"): after the
 * n-th consecutive failure wait a random time in [base, min(max, base * 2^n)]. Jitter keeps
 * a plant's worth of gateways from reconnecting to a restarted PLC or broker in lockstep.
 */

/** Backoff settings. */
export interface BackoffOptions {
  /** First delay, ms. */
  baseMs: number;
  /** Longest delay, ms. */
  maxMs: number;
  /** Random source in [0, 1); tests pass a fixed one. */
  random?: () => number;
}

/** Delay after `failures` consecutive failures (1 = first failure). */
export function backoffDelay(failures: number, o: BackoffOptions): number {
  if (!Number.isInteger(failures) || failures < 1) {
    throw new RangeError(`Cannot compute backoff: 'failures' must be >= 1, got ${failures}`);
  }
  const cap = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(failures - 1, 30));
  const r = (o.random ?? Math.random)();
  return Math.round(o.baseMs + r * Math.max(0, cap - o.baseMs));
}
