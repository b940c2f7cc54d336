/**
 * @module
 * The soak's printed lines: the periodic report and the final verdict. Pure formatting.
 */

import type { LossReport } from "./accounting.ts";

const MB = 1024 * 1024;

/** `1h02m03s`, `4m05s`, `12s`. */
export function formatElapsed(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (h > 0) return `${h}h${pad(m)}m${pad(r)}s`;
  if (m > 0) return `${m}m${pad(r)}s`;
  return `${r}s`;
}

/** Megabytes with one decimal. */
export const mb = (bytes: number | undefined) =>
  bytes === undefined ? "?" : (bytes / MB).toFixed(1);

/** What one periodic report shows. */
export interface Snapshot {
  /** Seconds since the gateway started. */
  t: number;
  rss: number | undefined;
  heapUsed: number | undefined;
  heapTotal: number | undefined;
  fds: number | undefined;
  logLines: number;
  logLinesPerMin: number;
  /** The gateway's own count (its latest stats line). */
  produced: number | undefined;
  /** Distinct records received over MQTT. */
  delivered: number;
  /** Numbers missing between the lowest and highest received, per device, summed. */
  gaps: number;
  duplicates: number;
  faults: string;
}

/** One periodic report line. */
export function formatSnapshot(s: Snapshot): string {
  const produced = s.produced ?? 0;
  return `[${formatElapsed(s.t).padStart(8)}] RSS ${mb(s.rss)} MB  heap ${mb(s.heapUsed)}/${
    mb(s.heapTotal)
  } MB  fds ${s.fds ?? "?"}  log ${s.logLines} lines (${
    s.logLinesPerMin.toFixed(1)
  }/min)  records produced ${produced}  delivered ${s.delivered} (in flight ${
    Math.max(0, produced - s.delivered)
  })  gaps so far ${s.gaps}  duplicates ${s.duplicates}  faults ${s.faults || "-"}`;
}

/** The final figures of a run. */
export interface Verdict {
  minutes: number;
  alive: boolean;
  /** Why the gateway is not alive (exit status) or did not stop cleanly. */
  gatewayProblem: string | undefined;
  mqtt: LossReport | undefined;
  history: LossReport | undefined;
  slopeMbPerHour: number | undefined;
  /** Seconds of samples the slope was fitted on (after the warm-up). */
  slopeWindowS: number;
  maxSlope: number;
}

/**
 * Shortest fitted window the slope is judged on: over a few minutes a garbage collection or
 * a burst of worker restarts moves RSS by more than a leak of a few MB/hour would.
 */
export const MIN_SLOPE_WINDOW_S = 600;

/** Reasons the run fails; empty on PASS. */
export function failures(v: Verdict): string[] {
  const out: string[] = [];
  if (!v.alive) out.push(`gateway not alive: ${v.gatewayProblem ?? "unknown"}`);
  else if (v.gatewayProblem) out.push(v.gatewayProblem);
  if (!v.mqtt) out.push("no MQTT accounting");
  else if (v.mqtt.lost > 0) out.push(`${v.mqtt.lost} records lost on the MQTT path`);
  if (!v.history) out.push("no history accounting");
  else if (v.history.lost > 0) out.push(`${v.history.lost} records missing from the history`);
  if (v.slopeWindowS < MIN_SLOPE_WINDOW_S) return out;
  if (v.slopeMbPerHour === undefined) out.push("RSS slope not measured (too few samples)");
  else if (v.slopeMbPerHour > v.maxSlope) {
    out.push(`RSS slope ${v.slopeMbPerHour.toFixed(2)} MB/h over the bound ${v.maxSlope} MB/h`);
  }
  return out;
}

/** The loss line of one destination. */
export function formatLoss(name: string, r: LossReport | undefined): string {
  if (!r) return `${name}: not accounted`;
  const missing = r.missing.length ? `  first missing: ${r.missing.join(" ")}` : "";
  return `${name}: produced ${r.produced}  delivered ${r.delivered}  lost ${r.lost}  duplicates ${r.duplicates}  unexpected ${r.unexpected}${missing}`;
}
