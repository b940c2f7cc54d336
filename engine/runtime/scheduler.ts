/**
 * @module
 * Poll scheduling that does not drift. Deadlines are anchored to the start time
 * (`start + phase + k * interval`), never to "now + interval", so lateness never accumulates:
 * a poll that fires 3 ms late is followed by one aimed at the original grid. A poll still
 * running at its next deadline is skipped and counted, never queued (queued polls would pile
 * up behind a slow device and then hammer it); so are ticks a late timer slept through.
 *
 * Interval schedules share one {@link TimerQueue} per clock: each is an entry allocated once,
 * whose deadline moves in a heap, so a steady poll cycle allocates nothing but the task's own
 * promise chain (an async loop sleeping ~1 s per poll kept its promise, timer, listener and
 * frame alive long enough to be promoted to the old generation, every cycle). Cron schedules
 * (6 fields, with seconds) are rare and slow: they keep a plain sleep loop, with croner for
 * the next wall-clock time.
 */

import { Cron } from "croner";
import type { Clock } from "../clock.ts";
import { Histogram, LATENESS_BUCKETS_MS } from "./histogram.ts";
import { MAX_EARLY_MS, TimerEntry, type TimerQueue, timerQueueFor } from "./timer_queue.ts";

/** When a poll runs. */
export type Schedule = { everyMs: number; phaseMs?: number } | { cron: string };

/** Figures of one schedule, for metrics and benchmarks. */
export class ScheduleStats {
  /** Polls started. */
  runs = 0;
  /** Deadlines skipped because the previous poll was still running or the timer woke late. */
  skipped = 0;
  /** Largest lateness seen, ms. */
  maxLateMs = 0;
  /** Lateness of every deadline since start, ms (for metrics). */
  readonly latenessHistogram = new Histogram(LATENESS_BUCKETS_MS);
  #late = new Float64Array(256);
  #n = 0;

  /** Records the lateness of one deadline. */
  addLateness(ms: number): void {
    this.latenessHistogram.observe(ms);
    this.#late[this.#n++ % this.#late.length] = ms;
    if (ms > this.maxLateMs) this.maxLateMs = ms;
  }

  /** The recent lateness samples (up to 256). */
  lateness(): Float64Array {
    return this.#late.slice(0, Math.min(this.#n, this.#late.length));
  }

  /** A percentile (0-100) of recent lateness, ms. */
  latenessPercentile(p: number): number {
    return percentile(this.lateness(), p);
  }
}

/** The p-th percentile of `xs` (nearest rank); 0 for no samples. */
export function percentile(xs: Float64Array | number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = Float64Array.from(xs).sort();
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

/** A stable phase in [0, span) for a name, so that polls of equal interval do not all fire at once. */
export function phaseFor(name: string, span: number): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return span <= 0 ? 0 : (h >>> 0) % Math.floor(span);
}

/**
 * What stops a schedule: an `AbortSignal`, or a {@linkcode ScheduleStop} (the part of one a
 * schedule uses).
 */
export interface StopSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/**
 * A stop for one schedule without an `AbortController`: a gateway holds one per poll for the
 * life of the poll, and an `AbortController` with its signal and listener costs about 400
 * bytes of heap (0.4 MB for 1,000 polls, measured).
 */
export class ScheduleStop implements StopSignal {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] | undefined = undefined;

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.aborted) return;
    (this.#listeners ??= []).push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const l = this.#listeners;
    const i = l ? l.indexOf(listener) : -1;
    if (i >= 0) l!.splice(i, 1);
  }

  /** Stops the schedule (once; its listeners run once). */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const l = this.#listeners;
    this.#listeners = undefined;
    for (const f of l ?? []) f();
  }
}

/**
 * Runs `task` on `schedule` until `signal` aborts. Resolves when stopped, after the running
 * task (if any) settled. `task` receives the deadline's wall-clock time. Rejects with a
 * `RangeError` for a non-positive interval, and with what `task` throws synchronously (a
 * rejected task promise is ignored: the next deadline runs it again).
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * const done = runSchedule({ everyMs: 1000 }, systemClock, ac.signal, async (at) => {
 *   console.log(new Date(at));
 * });
 * ac.abort();
 * await done;
 * ```
 */
export async function runSchedule(
  schedule: Schedule,
  clock: Clock,
  signal: StopSignal,
  task: (deadline: number) => Promise<void>,
  stats: ScheduleStats = new ScheduleStats(),
): Promise<void> {
  if ("cron" in schedule) return await runCron(schedule.cron, clock, signal, task, stats);
  const interval = schedule.everyMs;
  if (!(interval > 0)) {
    throw new RangeError(`Cannot schedule a poll every ${interval} ms: it must be positive`);
  }
  if (signal.aborted) return;
  return await new Promise<void>((resolve, reject) => {
    new IntervalEntry(
      timerQueueFor(clock),
      clock,
      signal,
      interval,
      schedule.phaseMs ?? 0,
      task,
      stats,
      resolve,
      reject,
    ).start();
  });
}

/** One interval schedule in the clock's timer queue. Everything it needs per cycle is here. */
class IntervalEntry extends TimerEntry {
  /** Index of the next deadline on the grid `start + k * interval`. */
  #k = 0;
  readonly #start: number;
  readonly #wallOffset: number;
  #running: Promise<void> | undefined;
  #inTask = false;
  #stopped = false;
  readonly #settled = () => {
    this.#running = undefined;
  };
  readonly #onAbort = () => {
    this.queue.remove(this);
    this.#stopped = true;
    // Aborted from inside the task: finish once its promise is known.
    if (!this.#inTask) this.#finish();
  };

  constructor(
    private readonly queue: TimerQueue,
    private readonly clock: Clock,
    private readonly signal: StopSignal,
    private readonly interval: number,
    private readonly phase: number,
    private readonly task: (deadline: number) => Promise<void>,
    private readonly stats: ScheduleStats,
    private readonly resolve: () => void,
    private readonly reject: (e: unknown) => void,
  ) {
    super();
    // Fires with an earlier poll when due within 1 % of the interval (see timer_queue.ts).
    this.early = Math.min(MAX_EARLY_MS, interval / 100);
    this.#start = clock.monotonic() + phase;
    this.#wallOffset = clock.now() - clock.monotonic();
  }

  /** Polls at once when phased, else at the first grid deadline (now), then joins the queue. */
  start(): void {
    // One listener per schedule for its lifetime, never one per sleep.
    this.signal.addEventListener("abort", this.#onAbort, { once: true });
    // The first poll runs at once (a value right after start); the grid, shifted by the
    // phase, takes over from the next deadline.
    if (this.phase > 0) {
      this.stats.addLateness(0);
      this.#k = 1;
      this.#run(this.clock.now());
    } else {
      this.due(this.clock.monotonic());
    }
    if (!this.#stopped) this.queue.insert(this, this.#start + this.#k * this.interval);
  }

  /** Fires the deadline `k` (late by `now - deadline`) and returns the next one after `now`. */
  due(now: number): number {
    const k = this.#k;
    const deadline = this.#start + k * this.interval;
    this.stats.addLateness(Math.max(0, now - deadline));
    // The next deadline strictly after now; ticks the timer slept through are skipped.
    const next = Math.max(k + 1, Math.floor((now - this.#start) / this.interval) + 1);
    if (next > k + 1) this.stats.skipped += next - k - 1;
    this.#k = next;
    this.#run(deadline + this.#wallOffset);
    return this.#start + next * this.interval;
  }

  #run(deadlineWall: number): void {
    if (this.#running) {
      this.stats.skipped++;
      return;
    }
    this.stats.runs++;
    this.#inTask = true;
    try {
      this.#running = this.task(deadlineWall).then(this.#settled, this.#settled);
    } catch (e) {
      this.#fail(e);
      return;
    } finally {
      this.#inTask = false;
    }
    if (this.#stopped) this.#finish();
  }

  #fail(e: unknown): void {
    this.#stopped = true;
    this.queue.remove(this);
    this.signal.removeEventListener("abort", this.#onAbort);
    if (this.signal.aborted) this.resolve();
    else this.reject(e);
  }

  #finish(): void {
    if (this.#running) this.#running.then(this.resolve);
    else this.resolve();
  }
}

/** The cron loop: a sleep per run is fine at cron's pace (seconds at the fastest). */
async function runCron(
  expr: string,
  clock: Clock,
  signal: StopSignal,
  task: (deadline: number) => Promise<void>,
  stats: ScheduleStats,
): Promise<void> {
  // Sleeps wait on a signal of this schedule's own: with many schedules, adding and removing
  // a listener on the one shared signal per sleep costs O(schedules) each time.
  const own = new AbortController();
  const forward = () => own.abort(signal.reason);
  if (signal.aborted) own.abort(signal.reason);
  else signal.addEventListener("abort", forward, { once: true });
  const mine = own.signal;
  let running: Promise<void> | undefined;
  try {
    const cron = new Cron(expr, { paused: true });
    let last = -Infinity;
    while (!mine.aborted) {
      // After the last run, even when the timer woke a little early.
      const next = cron.nextRun(new Date(Math.max(clock.now(), last)));
      if (!next) break;
      const at = next.getTime();
      last = at;
      for (let wait = at - clock.now(); wait > 0; wait = at - clock.now()) {
        await clock.sleep(wait, mine);
      }
      stats.addLateness(Math.max(0, clock.now() - at));
      if (running) {
        stats.skipped++;
        continue;
      }
      stats.runs++;
      running = task(at).catch(() => {}).finally(() => {
        running = undefined;
      });
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  } finally {
    signal.removeEventListener("abort", forward);
    if (running) await running;
  }
}
