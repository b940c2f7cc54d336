/**
 * @module
 * A bounded, ordered work queue: one consumer, one item at a time, in arrival order. Each
 * step and sink of the graph has one, so that a slow user function or sink never blocks
 * polling and batches stay in order. When it is full the oldest waiting batch is dropped,
 * counted and reported through `onDrop` (memory stays bounded; the loss is visible).
 */

/** Figures of a queue. */
export interface QueueStats {
  processed: number;
  dropped: number;
  depth: number;
}

/** A bounded FIFO processed one item at a time. */
export class SerialQueue<T> {
  #items: T[] = [];
  #running = false;
  #idle: (() => void)[] = [];
  #stats: QueueStats = { processed: 0, dropped: 0, depth: 0 };

  constructor(
    private readonly work: (item: T) => Promise<void>,
    private readonly capacity: number,
    private readonly onDrop: (item: T, dropped: number) => void = () => {},
  ) {
    if (!(capacity >= 1)) throw new RangeError(`Queue capacity must be >= 1, got ${capacity}`);
  }

  /** Adds an item; starts processing if idle. */
  push(item: T): void {
    if (this.#items.length >= this.capacity) {
      const old = this.#items.shift()!;
      this.#stats.dropped++;
      this.onDrop(old, this.#stats.dropped);
    }
    this.#items.push(item);
    this.#stats.depth = this.#items.length;
    if (!this.#running) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    while (this.#items.length > 0) {
      const item = this.#items.shift()!;
      this.#stats.depth = this.#items.length;
      try {
        await this.work(item);
      } catch {
        // `work` reports its own failures; the queue goes on.
      }
      this.#stats.processed++;
    }
    this.#running = false;
    if (this.#idle.length > 0) { for (const r of this.#idle.splice(0)) r(); }
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.#running && this.#items.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  /** A snapshot of the queue's figures. */
  stats(): QueueStats {
    return { ...this.#stats };
  }
}
