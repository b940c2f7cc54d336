/**
 * @module
 * One direction of a proxied connection: chunks read from one socket are stamped with a
 * delivery time (latency, jitter, a loss stall, bandwidth) and written to the other socket
 * in arrival order once due. Delivery times never decrease, so jitter never reorders bytes
 * (a byte stream cannot reorder).
 */

/** Network conditions of a proxy; applied per direction to each chunk read. */
export interface NetemConditions {
  /** One-way delay added in each direction, ms (a round trip gets it twice). */
  latencyMs: number;
  /** Uniform variation of the delay, ± ms, like `tc netem delay 50ms 10ms`; clipped at 0. */
  jitterMs: number;
  /**
   * Probability (0..1) that a chunk is "lost". TCP retransmits lost segments, so the
   * application sees a stall, not missing bytes: the chunk (and, to keep order, all that
   * follows it) is held back `lossStallMs` more.
   */
  lossRate: number;
  /** The stall of a lost chunk, ms: a retransmission timeout (Linux minimum RTO 200 ms). */
  lossStallMs: number;
  /** Throughput cap per direction, bytes/s; 0 for none. */
  bandwidthBytesPerS: number;
}

/** Conditions of a proxy with nothing set: a transparent relay. */
export const NO_IMPAIRMENT: Readonly<NetemConditions> = {
  latencyMs: 0,
  jitterMs: 0,
  lossRate: 0,
  lossStallMs: 200,
  bandwidthBytesPerS: 0,
};

/** Throws a `RangeError` for conditions that make no sense. */
export function checkConditions(c: Partial<NetemConditions>): void {
  for (const k of ["latencyMs", "jitterMs", "lossStallMs", "bandwidthBytesPerS"] as const) {
    const v = c[k];
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) {
      throw new RangeError(`Cannot set ${k} to ${v}: it must be a non-negative number`);
    }
  }
  const loss = c.lossRate;
  if (loss !== undefined && !(loss >= 0 && loss <= 1)) {
    throw new RangeError(`Cannot set lossRate to ${loss}: it must be between 0 and 1`);
  }
}

/** Queued bytes per direction above which the proxy stops reading (backpressure). */
export const HIGH_WATER_BYTES = 1 << 20;

interface Item {
  data: Uint8Array | null;
  due: number;
}

/** Counters a lane adds to. */
export interface LaneCounters {
  bytes: number;
  stalls: number;
}

/** One direction: `push()` from the reader, `run()` writes to the destination. */
export class Lane {
  #queue: Item[] = [];
  #queued = 0;
  #lastDue = 0;
  #txFreeAt = 0;
  #wake: (() => void) | undefined;
  #drained: (() => void) | undefined;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly conditions: () => NetemConditions,
    readonly random: () => number,
    readonly counters: LaneCounters,
  ) {}

  /** Stamps a chunk (or the end of the stream, `null`) with its delivery time. */
  push(data: Uint8Array | null): void {
    const now = performance.now();
    const c = this.conditions();
    let delay = c.latencyMs;
    if (c.jitterMs > 0) delay = Math.max(0, delay + c.jitterMs * (2 * this.random() - 1));
    let ready = now;
    if (data) {
      if (c.lossRate > 0 && this.random() < c.lossRate) {
        delay += c.lossStallMs;
        this.counters.stalls++;
      }
      if (c.bandwidthBytesPerS > 0) {
        ready = Math.max(now, this.#txFreeAt) + (data.length * 1000) / c.bandwidthBytesPerS;
        this.#txFreeAt = ready;
      }
      this.#queued += data.length;
    }
    const due = Math.max(ready + delay, this.#lastDue);
    this.#lastDue = due;
    this.#queue.push({ data, due });
    this.#wake?.();
  }

  /** Resolves when the queue is below {@linkcode HIGH_WATER_BYTES} again. */
  async backpressure(): Promise<void> {
    while (this.#queued > HIGH_WATER_BYTES && !this.#stopped) {
      await new Promise<void>((r) => this.#drained = r);
    }
  }

  /** Writes due chunks to `dst` until the end marker; half-closes `dst` then. */
  async run(dst: Deno.TcpConn): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      const item = this.#queue[0];
      if (!item) {
        await new Promise<void>((r) => this.#wake = r);
        this.#wake = undefined;
        continue;
      }
      const wait = item.due - performance.now();
      if (wait > 0) {
        await new Promise<void>((r) => {
          this.#wake = r;
          this.#timer = setTimeout(r, wait);
        });
        clearTimeout(this.#timer);
        this.#wake = undefined;
        continue;
      }
      this.#queue.shift();
      if (item.data === null) {
        await dst.closeWrite();
        return;
      }
      let off = 0;
      while (off < item.data.length) off += await dst.write(item.data.subarray(off));
      this.counters.bytes += item.data.length;
      this.#queued -= item.data.length;
      if (this.#queued <= HIGH_WATER_BYTES) this.#drained?.();
    }
  }

  /** Stops `run()` and drops what is queued. */
  stop(): void {
    this.#stopped = true;
    this.#queue = [];
    clearTimeout(this.#timer);
    this.#wake?.();
    this.#drained?.();
  }
}
