/**
 * @module
 * A counting semaphore: the engine's limit on requests in flight per device.
 */

/** Limits concurrent holders to `limit`. */
export class Semaphore {
  #free: number;
  #waiters: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `Cannot create semaphore: limit must be a positive integer, got ${limit}`,
      );
    }
    this.#free = limit;
  }

  /** Holders that could start now without waiting. */
  get available(): number {
    return this.#free;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Takes a slot, waiting if none is free. */
  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Takes a slot only if one is free now. */
  tryAcquire(): boolean {
    if (this.#free > 0) {
      this.#free--;
      return true;
    }
    return false;
  }

  /** Gives a slot back. */
  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }

  /** Runs `fn` holding a slot. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
