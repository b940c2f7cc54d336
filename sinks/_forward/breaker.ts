/**
 * @module
 * A circuit breaker per sink (Nygard, "Release It!"): after `threshold` consecutive
 * transient failures it opens and no request is sent for `coolDownMs`; then it is
 * half-open and lets one probe through: success closes it, failure opens it again for
 * another cool-down. Between failures while closed, the forwarder's exponential backoff
 * applies; the breaker adds the long pause and the state operators see (`breaker` in the
 * sink's stats: 0 closed, 1 open, 2 half-open).
 */

import type { Clock } from "../../engine/plugin.ts";

/** Breaker states, as numbers for stats. */
export const BreakerState = { closed: 0, open: 1, halfOpen: 2 } as const;
/** A breaker state code. */
export type BreakerStateCode = (typeof BreakerState)[keyof typeof BreakerState];

/** Settings of a {@linkcode CircuitBreaker}. */
export interface BreakerOptions {
  /** Consecutive failures that open the breaker (>= 1). */
  threshold: number;
  /** How long it stays open before a probe (ms). */
  coolDownMs: number;
  clock: Clock;
}

/** What a state change was, for logging. */
export type BreakerTransition = "opened" | "reopened" | "closed" | undefined;

/** The breaker of one sink. Not shared: one delivery loop drives it. */
export class CircuitBreaker {
  readonly #o: BreakerOptions;
  #state: BreakerStateCode = BreakerState.closed;
  #failures = 0;
  #openedAt = 0;
  #opens = 0;

  constructor(o: BreakerOptions) {
    if (!Number.isInteger(o.threshold) || o.threshold < 1) {
      throw new RangeError(
        `Cannot create circuit breaker: 'threshold' must be an integer >= 1, got ${o.threshold}`,
      );
    }
    this.#o = o;
  }

  /** Current state (moves from open to half-open once the cool-down has passed). */
  get state(): BreakerStateCode {
    if (this.#state === BreakerState.open && this.waitMs() === 0) {
      this.#state = BreakerState.halfOpen;
    }
    return this.#state;
  }

  /** Consecutive transient failures so far. */
  get failures(): number {
    return this.#failures;
  }

  /** How many times the breaker opened. */
  get opens(): number {
    return this.#opens;
  }

  /** Milliseconds until a request may be sent (0 unless open). */
  waitMs(): number {
    if (this.#state !== BreakerState.open) return 0;
    return Math.max(0, this.#openedAt + this.#o.coolDownMs - this.#o.clock.monotonic());
  }

  /** Records a confirmed delivery (also a permanent rejection: the destination is up). */
  success(): BreakerTransition {
    const was = this.#state;
    this.#failures = 0;
    this.#state = BreakerState.closed;
    return was === BreakerState.closed ? undefined : "closed";
  }

  /** Records a transient failure. */
  failure(): BreakerTransition {
    this.#failures++;
    const s = this.state;
    if (
      s === BreakerState.halfOpen ||
      (s === BreakerState.closed && this.#failures >= this.#o.threshold)
    ) {
      this.#state = BreakerState.open;
      this.#openedAt = this.#o.clock.monotonic();
      this.#opens++;
      return s === BreakerState.halfOpen ? "reopened" : "opened";
    }
    return undefined;
  }
}
