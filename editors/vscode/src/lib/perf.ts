/**
 * @module
 * The performance view's rows (per-device latency and errors, poll lateness, sink
 * backlogs, from `GET /devices` and `GET /stats`), the problems worth a notification
 * (devices down, sinks failing or backing up, polls skipping) with {@linkcode NotifyOnce}
 * so each is shown once until it clears, and a tag's history as CSV or JSON.
 */

import type { DeviceInfo, FlowsInfo, History, Stats } from "./gateway.ts";

/** One row of the performance view. */
export interface PerfRow {
  group: "devices" | "polls" | "sinks";
  name: string;
  text: string;
  /** Something is wrong with it. */
  warn: boolean;
}

/** Rows of the performance view. */
export function perfRows(devices: DeviceInfo[], stats: Stats): PerfRow[] {
  const rows: PerfRow[] = [];
  for (const d of devices) {
    const lat = d.latencyMs === undefined ? "no read yet" : `${d.latencyMs.toFixed(1)} ms`;
    rows.push({
      group: "devices",
      name: d.name,
      text: `${d.state}, ${lat}, ${d.reads} reads, ${d.readErrors} errors, ${d.timeouts} timeouts`,
      warn: d.state !== "connected" || !d.answering,
    });
  }
  for (const [name, p] of Object.entries(stats.polls)) {
    const late = p.p99LateMs ?? 0;
    rows.push({
      group: "polls",
      name,
      text: `${p.runs ?? 0} runs, ${p.skipped ?? 0} skipped, p99 late ${late.toFixed(1)} ms`,
      warn: (p.skipped ?? 0) > 0,
    });
  }
  for (const [name, s] of Object.entries(stats.sinks)) {
    const c = s.counters;
    const age = c.oldestAgeMs === undefined
      ? ""
      : `, oldest ${(c.oldestAgeMs / 1000).toFixed(1)} s`;
    rows.push({
      group: "sinks",
      name,
      text: `${s.use}: backlog ${c.depth ?? 0}${age}, ${c.errors ?? 0} errors, ${
        (c.dropped ?? 0) + (c.droppedRecords ?? 0)
      } dropped`,
      warn: (c.errors ?? 0) > 0 || (c.depth ?? 0) > 1000,
    });
  }
  return rows;
}

/** A problem to tell the user about; `key` identifies it across refreshes. */
export interface Problem {
  key: string;
  severity: "error" | "warning";
  message: string;
}

/** What is wrong on a gateway now. */
export function problems(
  gateway: string,
  devices: DeviceInfo[],
  stats: Stats | undefined,
  prevStats?: Stats,
): Problem[] {
  const out: Problem[] = [];
  for (const d of devices) {
    if (d.state === "backoff" || (d.state === "connected" && !d.answering)) {
      out.push({
        key: `${gateway}:device:${d.name}`,
        severity: "error",
        message: `${gateway}: device "${d.name}" is down${d.lastError ? `: ${d.lastError}` : ""}`,
      });
    }
  }
  for (const [name, s] of Object.entries(stats?.sinks ?? {})) {
    const errors = s.counters.errors ?? 0;
    const before = prevStats?.sinks[name]?.counters.errors ?? 0;
    if (errors > before) {
      out.push({
        key: `${gateway}:sink:${name}`,
        severity: "error",
        message: `${gateway}: sink "${name}" (${s.use}) is failing: ${errors} failed write(s)`,
      });
    }
  }
  return out;
}

/**
 * Shows each problem once: {@linkcode NotifyOnce.fresh} returns the problems not shown
 * since they last cleared.
 */
export class NotifyOnce {
  #shown = new Set<string>();

  /** The problems to show now; the ones gone from `current` may be shown again later. */
  fresh(current: Problem[], scope?: string): Problem[] {
    const keys = new Set(current.map((p) => p.key));
    for (const k of this.#shown) {
      if ((scope === undefined || k.startsWith(scope)) && !keys.has(k)) this.#shown.delete(k);
    }
    const out = current.filter((p) => !this.#shown.has(p.key));
    for (const p of out) this.#shown.add(p.key);
    return out;
  }
}

/**
 * Flows the gateway refused: `GET /flows` answering `valid: false` or with errors (a reload
 * that was rejected keeps the previous flows running). One problem per distinct set of errors.
 */
export function flowsProblems(gateway: string, flows: FlowsInfo): Problem[] {
  if (flows.valid && flows.errors.length === 0) return [];
  const shown = flows.errors.slice(0, 3).join("; ");
  const more = flows.errors.length > 3 ? ` (+${flows.errors.length - 3} more)` : "";
  return [{
    key: `${gateway}:flows:${flows.errors.join("\n")}`,
    severity: "error",
    message: `${gateway}: flows rejected: ${shown || "invalid"}${more}`,
  }];
}

function csvField(v: unknown): string {
  const s = v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A history as CSV: one row per point, ISO time first. */
export function historyToCsv(h: History): string {
  const head = "time,ts,device,tag,value,min,max,count,quality";
  const rows = h.points.map((p) =>
    [
      new Date(p.ts).toISOString(),
      p.ts,
      h.device,
      h.tag,
      p.value,
      p.min,
      p.max,
      p.count,
      p.quality,
    ].map(csvField).join(",")
  );
  return [head, ...rows].join("\n") + "\n";
}

/** A history as JSON, with its range and whether it was downsampled. */
export function historyToJson(h: History): string {
  return JSON.stringify(h, null, 2) + "\n";
}

/** A small text sparkline of numeric points (for a trend at a glance). */
export function sparkline(values: number[], width = 40): string {
  if (values.length === 0) return "";
  const ticks = "▁▂▃▄▅▆▇█";
  const step = Math.max(1, Math.ceil(values.length / width));
  const picked: number[] = [];
  for (let i = 0; i < values.length; i += step) picked.push(values[i]!);
  const min = Math.min(...picked);
  const max = Math.max(...picked);
  return picked.map((v) =>
    ticks[max === min ? 3 : Math.round(((v - min) / (max - min)) * (ticks.length - 1))]
  ).join("");
}
