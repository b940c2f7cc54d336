/**
 * @module
 * Poll scheduling that does not drift. Deadlines are anchored to the start time
 * (`start + k * interval`), never to "now + interval", so lateness never accumulates: a poll
 * that fires 3 ms late is followed by one aimed at the original grid. A poll still running
 * at its next deadline is skipped and counted, never queued (queued polls would pile up
 * behind a slow device and then hammer it). Cron schedules (6 fields, with seconds) use
 * croner for the next wall-clock time.
 */

import { Cron } from "croner";
import type { Clock } from "../clock.ts";

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
  #late = new Float64Array(256);
  #n = 0;

  /** Records the lateness of one deadline. */
  addLateness(ms: number): void {
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
 * Runs `task` on `schedule` until `signal` aborts. Resolves when stopped, after the running
 * task (if any) settled. `task` receives the deadline's wall-clock time.
 */
export async function runSchedule(
  schedule: Schedule,
  clock: Clock,
  signal: AbortSignal,
  task: (deadline: number) => Promise<void>,
  stats: ScheduleStats = new ScheduleStats(),
): Promise<void> {
  // Sleeps wait on a signal of this schedule's own: with a thousand schedules, adding and
  // removing a listener on the one shared signal per sleep costs O(schedules) each time.
  const own = new AbortController();
  const forward = () => own.abort(signal.reason);
  if (signal.aborted) own.abort(signal.reason);
  else signal.addEventListener("abort", forward, { once: true });
  const mine = own.signal;
  let running: Promise<void> | undefined;
  const fire = (deadlineWall: number) => {
    if (running) {
      stats.skipped++;
      return;
    }
    stats.runs++;
    running = task(deadlineWall).catch(() => {}).finally(() => {
      running = undefined;
    });
  };
  try {
    if ("cron" in schedule) {
      const cron = new Cron(schedule.cron, { paused: true });
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
        const late = clock.now() - at;
        stats.addLateness(Math.max(0, late));
        fire(at);
      }
    } else {
      const interval = schedule.everyMs;
      if (!(interval > 0)) {
        throw new RangeError(`Cannot schedule a poll every ${interval} ms: it must be positive`);
      }
      const phase = schedule.phaseMs ?? 0;
      const startMono = clock.monotonic() + phase;
      const wallOffset = clock.now() - clock.monotonic();
      // The first poll runs at once (a value right after start); the grid, shifted by the
      // phase, takes over from the next deadline.
      let k = 0;
      if (phase > 0) {
        stats.addLateness(0);
        fire(clock.now());
        k = 1;
      }
      while (!mine.aborted) {
        const deadline = startMono + k * interval;
        // Timers may wake a little early: sleep again rather than fire before the deadline.
        for (
          let wait = deadline - clock.monotonic();
          wait > 0;
          wait = deadline - clock.monotonic()
        ) {
          await clock.sleep(wait, mine);
        }
        const now = clock.monotonic();
        stats.addLateness(Math.max(0, now - deadline));
        fire(deadline + wallOffset);
        // The next deadline strictly after now; ticks the timer slept through are skipped.
        const nextK = Math.max(k + 1, Math.floor((now - startMono) / interval) + 1);
        if (nextK > k + 1) stats.skipped += nextK - k - 1;
        k = nextK;
      }
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  } finally {
    signal.removeEventListener("abort", forward);
    if (running) await running;
  }
}
