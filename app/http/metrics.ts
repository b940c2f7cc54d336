/**
 * @module
 * `GET /metrics`: the gateway's figures in the Prometheus text format, read from the
 * engine's own counters at each scrape (nothing is kept between scrapes).
 *
 * Families (all prefixed `bifrost_`), by label:
 * - `device`: `device_connected`, `device_answering`, `device_state{state}` (1 for the
 *   current state), `device_reads_total`, `device_connects_total`,
 *   `device_errors_total{kind=connect|read|timeout|malformed}`, `device_subscriptions`,
 *   `device_read_duration_seconds` (histogram).
 * - `poll`: `poll_runs_total`, `poll_skipped_total`, `poll_lateness_seconds` (histogram);
 *   `subscription_pushes_total`, `subscription_batches_total` for `subscribe:` polls.
 * - `step`: `step_records_total`, `step_errors_total`, `step_queue_depth` (batches waiting),
 *   `step_dropped_records_total`, `step_restarts_total` (function steps), `step_figure`
 *   (each figure of a step's own `stats()`, e.g. the swinging-door compression `ratio`).
 * - `sink`: `sink_records_total` (taken by the sink), `sink_write_errors_total`,
 *   `sink_dropped_records_total{where=gateway|queue}` (the gateway's full in-memory queue, the
 *   sink's own bounded queue), and what the sink reports itself: `sink_queue_depth`
 *   (records), `sink_queue_oldest_age_seconds`, `sink_sent_total`, `sink_failed_total`,
 *   `sink_dead_lettered_total`; any other figure a sink reports as `sink_stat{stat}`.
 * - process: `process_resident_memory_bytes`, `process_heap_used_bytes`,
 *   `process_heap_total_bytes`, `process_external_memory_bytes`,
 *   `process_event_loop_lag_seconds`, `process_event_loop_lag_max_seconds` (worst since the
 *   last scrape), `process_start_time_seconds`, `records_produced_total`.
 * - `trigger` and `ws_*`: added by the parts that own them (`trigger_stats.ts`, `ws.ts`)
 *   through `extra`.
 */

import { Hono } from "hono";
import type { Gateway } from "../../engine/runtime/gateway.ts";
import type { DeviceState } from "../../engine/runtime/device.ts";
import { Exposition, EXPOSITION_CONTENT_TYPE } from "./_exposition.ts";
import type { LoopLagMonitor } from "./loop_lag.ts";

/** Options of {@linkcode metricsApp}. */
export interface MetricsOptions {
  /** The event-loop lag probe (started and stopped by the server); without it no lag figures. */
  loopLag?: LoopLagMonitor;
  /** Wall-clock ms when the process started (default: when the app was made). */
  startedAt?: number;
  /** More families, from parts loaded on demand (the `bifrost_deploy_*` ones with `--git`). */
  extra?: (x: Exposition) => void;
}

const STATES: readonly DeviceState[] = ["idle", "connecting", "connected", "backoff", "closed"];

/** Sink figures with a family of their own: stat name → [metric, type, help, scale]. */
const SINK_FIGURES: Record<string, [string, "counter" | "gauge", string, number]> = {
  depth: ["bifrost_sink_queue_depth", "gauge", "Records waiting in the sink's queue.", 1],
  oldestAgeMs: [
    "bifrost_sink_queue_oldest_age_seconds",
    "gauge",
    "Age of the oldest record waiting in the sink's queue.",
    0.001,
  ],
  sent: ["bifrost_sink_sent_total", "counter", "Records confirmed by the destination.", 1],
  failed: ["bifrost_sink_failed_total", "counter", "Records the destination failed.", 1],
  deadLetters: [
    "bifrost_sink_dead_lettered_total",
    "counter",
    "Records set aside as dead letters (refused by the destination).",
    1,
  ],
};

/** Help of the figures steps report of themselves (`Step.stats()`). */
const STEP_FIGURE_HELP =
  "What a step reports of itself: window late/bad records, swinging-door in/out/ratio (compression), alarm events…";

/**
 * Builds the exposition text of a gateway's figures.
 *
 * @example
 * ```ts
 * const text = metricsText(gateway, {});
 * ```
 */
export function metricsText(gateway: Gateway, o: MetricsOptions = {}): string {
  const x = new Exposition();
  for (const [name, d] of gateway.devices) {
    const h = d.health();
    const l = { device: name };
    x.sample(
      "bifrost_device_connected",
      "gauge",
      "1 while connected.",
      l,
      +(h.state === "connected"),
    );
    x.sample(
      "bifrost_device_answering",
      "gauge",
      "0 while connected but not answering reads.",
      l,
      +h.answering,
    );
    for (const s of STATES) {
      x.sample("bifrost_device_state", "gauge", "1 for the connection's current state.", {
        device: name,
        state: s,
      }, +(h.state === s));
    }
    x.sample("bifrost_device_reads_total", "counter", "Reads sent to the device.", l, h.reads);
    x.sample("bifrost_device_connects_total", "counter", "Connections made.", l, h.connects);
    const errors =
      "Failures by kind: connect attempts, whole reads, tag timeouts, malformed answers.";
    const kinds: [string, number][] = [
      ["connect", h.connectFailures],
      ["read", h.readErrors],
      ["timeout", h.timeouts],
      ["malformed", h.malformed],
    ];
    for (const [kind, v] of kinds) {
      x.sample("bifrost_device_errors_total", "counter", errors, { device: name, kind }, v);
    }
    x.sample("bifrost_device_subscriptions", "gauge", "Live subscriptions.", l, h.subscriptions);
    x.histogram(
      "bifrost_device_read_duration_seconds",
      "Duration of reads that reached the driver.",
      l,
      d.readLatency,
      0.001,
    );
  }
  for (const [name, p] of gateway.polls) {
    const l = { poll: name, device: p.device.name };
    x.sample("bifrost_poll_runs_total", "counter", "Polls started.", l, p.stats.runs);
    x.sample(
      "bifrost_poll_skipped_total",
      "counter",
      "Deadlines skipped (the previous poll still running, or the timer woke late).",
      l,
      p.stats.skipped,
    );
    x.histogram(
      "bifrost_poll_lateness_seconds",
      "How late after its deadline each poll started.",
      l,
      p.stats.latenessHistogram,
      0.001,
    );
  }
  for (const [name, s] of gateway.subscriptions) {
    const l = { poll: name, device: s.device.name };
    x.sample("bifrost_subscription_pushes_total", "counter", "Values pushed.", l, s.stats.pushes);
    x.sample(
      "bifrost_subscription_batches_total",
      "counter",
      "Batches emitted.",
      l,
      s.stats.batches,
    );
  }
  for (const [name, c] of Object.entries(gateway.stats().consumers)) {
    if (c.kind === "step") {
      const l = { step: name };
      x.sample("bifrost_step_records_total", "counter", "Records taken in.", l, c.records);
      x.sample("bifrost_step_errors_total", "counter", "Batches that failed.", l, c.errors);
      x.sample("bifrost_step_queue_depth", "gauge", "Batches waiting.", l, c.depth);
      x.sample(
        "bifrost_step_dropped_records_total",
        "counter",
        "Records dropped from the step's full queue.",
        l,
        c.droppedRecords,
      );
      if (c.own.restarts !== undefined) {
        x.sample(
          "bifrost_step_restarts_total",
          "counter",
          "Function processes started again after a failure.",
          l,
          c.own.restarts,
        );
      }
      for (const [figure, v] of Object.entries(c.own)) {
        if (figure === "restarts") continue;
        x.sample("bifrost_step_figure", "gauge", STEP_FIGURE_HELP, { step: name, figure }, v);
      }
      continue;
    }
    const l = { sink: name };
    x.sample("bifrost_sink_records_total", "counter", "Records handed to the sink.", l, c.records);
    x.sample("bifrost_sink_write_errors_total", "counter", "Writes that threw.", l, c.errors);
    const dropped = "Records dropped: from the gateway's full queue, or by the sink's own bounds.";
    x.sample("bifrost_sink_dropped_records_total", "counter", dropped, {
      sink: name,
      where: "gateway",
    }, c.droppedRecords);
    if (c.own.dropped !== undefined) {
      x.sample("bifrost_sink_dropped_records_total", "counter", dropped, {
        sink: name,
        where: "queue",
      }, c.own.dropped);
    }
    for (const [stat, v] of Object.entries(c.own)) {
      if (stat === "dropped") continue;
      const known = SINK_FIGURES[stat];
      if (known) x.sample(known[0], known[1], known[2], l, v * known[3]);
      else {
        x.sample("bifrost_sink_stat", "gauge", "Other figures the sink reports, by name.", {
          sink: name,
          stat,
        }, v);
      }
    }
  }
  const m = Deno.memoryUsage();
  const p = {};
  x.sample("bifrost_process_resident_memory_bytes", "gauge", "Resident set size.", p, m.rss);
  x.sample("bifrost_process_heap_used_bytes", "gauge", "V8 heap used.", p, m.heapUsed);
  x.sample("bifrost_process_heap_total_bytes", "gauge", "V8 heap size.", p, m.heapTotal);
  x.sample(
    "bifrost_process_external_memory_bytes",
    "gauge",
    "Memory outside the V8 heap (buffers).",
    p,
    m.external,
  );
  if (o.loopLag) {
    x.sample(
      "bifrost_process_event_loop_lag_seconds",
      "gauge",
      "How late the last event-loop probe fired.",
      p,
      o.loopLag.lastMs / 1000,
    );
    x.sample(
      "bifrost_process_event_loop_lag_max_seconds",
      "gauge",
      "Worst event-loop lag since the last scrape.",
      p,
      o.loopLag.takeMaxMs() / 1000,
    );
  }
  if (o.startedAt !== undefined) {
    x.sample(
      "bifrost_process_start_time_seconds",
      "gauge",
      "When the process started, seconds since the epoch.",
      p,
      o.startedAt / 1000,
    );
  }
  x.sample(
    "bifrost_records_produced_total",
    "counter",
    "Records the polls produced.",
    p,
    gateway.recordsProduced(),
  );
  o.extra?.(x);
  return x.text();
}

/**
 * A Hono app serving `GET /metrics` for `gateway`, to mount into the HTTP server.
 *
 * @example
 * ```ts
 * const lag = new LoopLagMonitor();
 * lag.start();
 * Deno.serve({ port: 0 }, metricsApp(gateway, { loopLag: lag }).fetch);
 * ```
 */
export function metricsApp(gateway: Gateway, options: MetricsOptions = {}): Hono {
  const o = { startedAt: Date.now(), ...options };
  const app = new Hono();
  app.get(
    "/metrics",
    (c) => c.body(metricsText(gateway, o), 200, { "content-type": EXPOSITION_CONTENT_TYPE }),
  );
  return app;
}
