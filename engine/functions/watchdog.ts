/**
 * @module
 * The decisions of a function process's watchdog, apart from the timer that drives it and
 * the `/proc` reads that feed it (so that tests can feed it numbers): the process is over
 * its memory limit, or it keeps running between batches.
 *
 * Memory: the V8 heap limit (`--max-old-space-size`) bounds the JS heap; array buffers
 * and threads live outside it, so resident memory is checked too, against the limit plus
 * what a Deno process takes anyway ({@linkcode PROCESS_OVERHEAD_MB}).
 *
 * Between batches a process should be idle. CPU time it uses beyond a small share
 * ({@linkcode IDLE_CPU_SHARE}) is charged to a bucket; past one batch time limit's worth,
 * something the function started outlives its batch (a `node:worker_threads` worker, a
 * timer loop) and the process must go. A batch empties the bucket.
 */

import type { ProcessStats } from "./child_process.ts";

/**
 * What a Deno process takes beside its JS heap (runtime, code, young generation,
 * threads), in MB; measured at 45-60 MB for a function process on Deno 2.9.6.
 */
export const PROCESS_OVERHEAD_MB = 96;

/** How often the watchdog reads the process's memory and CPU time, in ms. */
export const WATCH_MS = 100;

/** The share of CPU time a process may use between batches (timers, GC) uncharged. */
export const IDLE_CPU_SHARE = 0.1;

/** What the watchdog found wrong. */
export type Verdict = "memory" | "busy" | undefined;

/** The watchdog of one process. */
export class Watchdog {
  #idle = 0;
  #lastCpu: number | undefined;

  /**
   * @param memoryMb the heap limit of the process
   * @param timeoutMs the time limit of a batch
   */
  constructor(readonly memoryMb: number, readonly timeoutMs: number) {}

  /** CPU time charged since the last batch, in ms. */
  get charged(): number {
    return this.#idle;
  }

  /** A batch starts: what ran before it is forgiven. */
  batch(): void {
    this.#idle = 0;
  }

  /**
   * Takes a reading, `intervalMs` after the previous one; `busy` when a batch (or the
   * loading of the module) was in flight.
   */
  observe(st: ProcessStats, busy: boolean, intervalMs: number): Verdict {
    if (st.rssMb > this.memoryMb + PROCESS_OVERHEAD_MB) return "memory";
    const used = this.#lastCpu === undefined ? 0 : st.cpuMs - this.#lastCpu;
    this.#lastCpu = st.cpuMs;
    if (busy) return undefined;
    this.#idle = Math.max(0, this.#idle + used - IDLE_CPU_SHARE * intervalMs);
    return this.#idle > Math.max(this.timeoutMs, 2 * intervalMs) ? "busy" : undefined;
  }
}
