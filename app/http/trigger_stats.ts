/**
 * @module
 * Figures of the HTTP triggers for `/metrics`: per trigger, requests by HTTP status (the
 * guard's 401/403/429, the body's 400, the busy 503, the function's own status, 500 and
 * 504 alike), a latency histogram from arrival to answer, cron runs and failures, the
 * function's process restarts and the requests waiting or running.
 *
 * Families: `bifrost_trigger_requests_total{trigger,status}`,
 * `bifrost_trigger_request_duration_seconds{trigger}` (histogram),
 * `bifrost_trigger_cron_runs_total{trigger,result=ok|failed}`,
 * `bifrost_trigger_restarts_total{trigger}`, `bifrost_trigger_inflight{trigger}`.
 */

import { Histogram, LATENCY_BUCKETS_MS } from "../../engine/runtime/histogram.ts";
import type { Exposition } from "./_exposition.ts";

/** One trigger's figures. */
export class TriggerStats {
  /** Answers by HTTP status. */
  readonly requests = new Map<number, number>();
  /** Arrival to answer, ms. */
  readonly latency = new Histogram(LATENCY_BUCKETS_MS);
  cronRuns = 0;
  cronFailures = 0;
  /** Requests waiting or running now. */
  inflight = 0;

  /** Counts one answered request. */
  answered(status: number, ms: number): void {
    this.requests.set(status, (this.requests.get(status) ?? 0) + 1);
    this.latency.observe(ms);
  }
}

/** Declares the trigger families and adds every trigger's samples to `x`. */
export function triggerMetrics(
  x: Exposition,
  triggers: Iterable<[name: string, stats: TriggerStats, restarts: number]>,
): void {
  const REQUESTS = "HTTP requests to the trigger, by the status answered.";
  const DURATION = "Time from a trigger request's arrival to its answer.";
  x.family("bifrost_trigger_requests_total", "counter", REQUESTS);
  x.family("bifrost_trigger_request_duration_seconds", "histogram", DURATION);
  for (const [trigger, s, restarts] of triggers) {
    const l = { trigger };
    for (const [status, n] of [...s.requests].sort((a, b) => a[0] - b[0])) {
      x.sample("bifrost_trigger_requests_total", "counter", REQUESTS, {
        trigger,
        status: String(status),
      }, n);
    }
    x.histogram("bifrost_trigger_request_duration_seconds", DURATION, l, s.latency, 0.001);
    const CRON = "Scheduled runs of a cron trigger, by result.";
    x.sample(
      "bifrost_trigger_cron_runs_total",
      "counter",
      CRON,
      { trigger, result: "ok" },
      s.cronRuns - s.cronFailures,
    );
    x.sample(
      "bifrost_trigger_cron_runs_total",
      "counter",
      CRON,
      { trigger, result: "failed" },
      s.cronFailures,
    );
    x.sample(
      "bifrost_trigger_restarts_total",
      "counter",
      "Times the trigger's function process was started again (time-out, crash).",
      l,
      restarts,
    );
    x.sample("bifrost_trigger_inflight", "gauge", "Requests waiting or running.", l, s.inflight);
  }
}
