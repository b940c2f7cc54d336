/**
 * @module
 * Process figures in the log, the smallest hook a long run needs until the gateway has an
 * HTTP API: with `BIFROST_STATS_EVERY=60s` in its environment, `bifrost run` logs one line
 * `{"msg":"Process stats","rss":…,"heapUsed":…,"heapTotal":…,"external":…,"records":…}`
 * per interval (bytes; `records` is what the polls produced since start), and a last one
 * after a clean stop that adds `final: true` and the sequence range of every device (what
 * the soak test checks the sinks against, see `scripts/soak.ts`).
 */

import type { Clock } from "../clock.ts";
import { BifrostError } from "../errors.ts";
import { parseDuration } from "../flow/duration.ts";
import type { Logger } from "../log.ts";

/** The environment variable that switches the stats lines on. */
export const STATS_EVERY_ENV = "BIFROST_STATS_EVERY";

/** Shortest interval accepted: a stats line costs a `memoryUsage()` call and a log line. */
const MIN_EVERY_MS = 100;

/**
 * The interval of `BIFROST_STATS_EVERY` in ms; undefined when unset or empty.
 * Throws a `CONFIG_INVALID` error naming the variable and the value when it is not a
 * duration of at least 100 ms.
 *
 * @example
 * ```ts
 * parseStatsEvery("60s"); // 60000
 * ```
 */
export function parseStatsEvery(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    ms = NaN;
  }
  if (!(ms >= MIN_EVERY_MS)) {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot use ${STATS_EVERY_ENV}="${value}": expected a duration of at least ${MIN_EVERY_MS}ms, e.g. "60s"`,
      { details: { variable: STATS_EVERY_ENV, value } },
    );
  }
  return ms;
}

/** Memory of this process, bytes, and the records produced. */
export function processStats(records: number): Record<string, number> {
  const m = Deno.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    records,
  };
}

/** Options of {@linkcode startProcessStats}. */
export interface ProcessStatsOptions {
  everyMs: number;
  log: Logger;
  clock: Clock;
  /** Records produced so far. */
  records: () => number;
}

/**
 * Logs a "Process stats" line every `everyMs` until `stop()` is called.
 *
 * @example
 * ```ts
 * const stats = startProcessStats({ everyMs: 60_000, log, clock: systemClock, records: () => 0 });
 * // …
 * stats.stop();
 * ```
 */
export function startProcessStats(o: ProcessStatsOptions): { stop(): void } {
  const abort = new AbortController();
  (async () => {
    for (;;) {
      try {
        await o.clock.sleep(o.everyMs, abort.signal);
      } catch {
        return; // stopped
      }
      o.log.info("Process stats", processStats(o.records()));
    }
  })();
  return { stop: () => abort.abort() };
}
