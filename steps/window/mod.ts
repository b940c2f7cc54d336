/**
 * @module
 * The `window` step: aggregates per tag (or per group of tags of a device) over tumbling and
 * sliding (hopping) time windows, count windows and session windows. Output records replace
 * the input: one per key and aggregate when a window closes, stamped with the window's end
 * (sessions: their last record), tag named by `output`.
 *
 * Time windows close on a watermark: the newest timestamp the step has seen minus `lateness`.
 * A record whose every window has already closed is late: dropped and counted. Bad-quality
 * records are excluded and counted in their window, whose quality then says so (uncertain, or
 * bad when no usable value was left); uncertain inputs make the window uncertain. Strings and
 * other non-numeric values are counted as `skipped`.
 *
 * State: partial aggregates in typed-array pane rings (`panes.ts`); percentiles in a DDSketch
 * per key and pane (`sketch.ts`, bounded memory, a stated relative error), or, with
 * `percentiles: exact`, the window's raw values (up to `maxPoints` per key).
 */

import {
  Batch,
  parseDuration,
  Quality,
  type Step,
  type StepContext,
  type StepIssue,
  type StepModule,
  StorageKind,
} from "../../engine/plugin.ts";
import { compileTemplate, KeyIndex } from "../_keys.ts";
import { readSnapshot, type Snapshot, snapshotPath, writeSnapshot } from "../_snapshot.ts";
import { selected, selector } from "../_shared.ts";
import { addToPane, countInPane, P, PANE_FIELDS, PointRing, quantile, WindowAcc } from "./panes.ts";
import { PaneSketches } from "./sketch.ts";
import { type WindowConfig, WindowSpec } from "./spec.ts";

export { type WindowConfig, WindowSpec } from "./spec.ts";

/** Counters of a window step (shown in metrics). */
export interface WindowStats {
  [k: string]: number;
  records: number;
  windows: number;
  late: number;
  bad: number;
  skipped: number;
  reordered: number;
  overflow: number;
  keys: number;
  bufferedPoints: number;
  /** Sketch panes whose values spanned more than its bins (smallest magnitudes merged). */
  sketchCollapsed: number;
}

/** A window step, with its counters and its state's size. */
export interface WindowStep extends Step {
  process(batch: Batch): Batch;
  stats(): WindowStats;
  /** Bytes of typed-array state (panes, percentile sketches or buffered points). */
  stateBytes(): number;
  /** The state, for a snapshot. */
  snapshot(): Snapshot;
  /** Takes a snapshot's state; false (nothing taken) when its config differs. */
  restore(s: Snapshot): boolean;
}

const gcd = (a: number, b: number): number => b === 0 ? a : gcd(b, a % b);
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

type AggFn = (acc: WindowAcc, perUnit: number) => number;
const AGG: Record<string, AggFn> = {
  mean: (a) => a.mean,
  min: (a) => a.min,
  max: (a) => a.max,
  sum: (a) => a.sum,
  count: (a) => a.n,
  first: (a) => a.first,
  last: (a) => a.last,
  stddev: (a) => a.n > 1 ? Math.sqrt(a.m2 / (a.n - 1)) : 0,
  range: (a) => a.max - a.min,
  delta: (a) => a.last - a.first,
  rate: (a) => a.lastTs > a.firstTs ? (a.last - a.first) * 1000 / (a.lastTs - a.firstTs) : NaN,
  integral: (a, unit) => a.integral / unit,
  twa: (a) => a.span > 0 ? a.integral / a.span : a.mean,
};

interface Output {
  agg: string;
  fn: AggFn | undefined;
  q: number;
}

/** Creates a window step. */
export function createWindow(
  config: WindowConfig,
  ctx?: Partial<Pick<StepContext, "clock" | "name" | "dataDir" | "log">>,
): WindowStep {
  const issues = validateWindow(config);
  if (issues.length > 0) throw new RangeError(issues[0]!.message);
  const clock = ctx?.clock;
  const aggs = config.aggregates ?? ["mean", "min", "max", "count"];
  const outputs: Output[] = aggs.map((agg) => ({
    agg,
    fn: AGG[agg],
    q: AGG[agg] ? NaN : Number(agg.slice(1)) / 100,
  }));
  const percentiles = outputs.some((o) => o.fn === undefined);
  const exact = percentiles && config.percentiles === "exact";
  const template = compileTemplate(config.output ?? "{tag}.{agg}");
  const names: string[][] = []; // output tag names per key id
  const useGateway = config.time === "gateway";
  const lateness = config.lateness ? parseDuration(config.lateness) : 0;
  const perUnit = UNIT_MS[(config.integralUnit ?? "h") as keyof typeof UNIT_MS];
  const maxPoints = config.maxPoints ?? 100_000;
  const sel = selector(config);
  const all = sel.tags === undefined && sel.devices === undefined;
  const group = config.group;

  const mode = config.count !== undefined
    ? "count"
    : config.session !== undefined
    ? "session"
    : "time";
  const size = mode === "time" ? parseDuration(config.size!) : 0;
  const hop = mode === "time" ? (config.hop ? parseDuration(config.hop) : size) : 0;
  const pane = mode === "time" ? gcd(size, hop) : 1;
  const countSize = config.count ?? 0;
  const countHop = config.countHop ?? countSize;
  const gap = mode === "session" ? parseDuration(config.session!) : 0;
  const panesPerWindow = mode === "time"
    ? size / pane
    : mode === "count"
    ? countSize / countHop
    : 1;
  // Panes a key must keep: the open windows, the lateness, one hop of newer records.
  const ring = mode === "time"
    ? Math.ceil((size + lateness + hop) / pane) + 2
    : mode === "count"
    ? panesPerWindow + 1
    : 1;
  const stride = ring * PANE_FIELDS;
  const sketch = percentiles && !exact
    ? new PaneSketches(config.percentileAccuracy ?? 0.01, ring)
    : undefined;

  const keys = new KeyIndex();
  let panes = new Float64Array(0);
  let counts = new Float64Array(0); // count windows: records per key; sessions: last ts
  let overflowed = new Float64Array(0); // values left out of the open percentiles, per key
  const points: PointRing[] = [];
  const acc = new WindowAcc();
  const scratch = { a: new Float64Array(1024) };
  const stats: WindowStats = {
    records: 0,
    windows: 0,
    late: 0,
    bad: 0,
    skipped: 0,
    reordered: 0,
    overflow: 0,
    keys: 0,
    bufferedPoints: 0,
    sketchCollapsed: 0,
  };
  let maxTs = -Infinity;
  let nextEnd = NaN; // time windows: end of the next window to close
  let seq = (clock?.now() ?? Date.now()) * 1000;
  let out = new Batch(0);

  let capacity = 0; // keys the typed arrays have room for

  const keyOf = (b: Batch, i: number): number => {
    const id = keys.idAt(b.device[i]!, group ?? b.tag[i]!, i);
    if (id >= stats.keys) newKey(id);
    return id;
  };

  const newKey = (id: number): void => {
    stats.keys = id + 1;
    if (id >= capacity) {
      capacity = Math.max(64, capacity * 2);
      const p = new Float64Array(capacity * stride).fill(NaN);
      p.set(panes);
      panes = p;
      const c = new Float64Array(capacity);
      c.set(counts);
      counts = c;
      const f = new Float64Array(capacity);
      f.set(overflowed);
      overflowed = f;
    }
    if (exact) points.push(new PointRing());
    sketch?.ensureKeys(id + 1);
  };

  const namesOf = (id: number): string[] =>
    names[id] ??= outputs.map((o) =>
      template({ tag: keys.tag[id]!, device: keys.device[id]!, agg: o.agg })
    );
  let now = 0; // gateway time of the records being emitted

  /** Makes room in the output for `windows` more windows' records. */
  const reserve = (windows: number): void => {
    const need = out.length + windows * outputs.length;
    if (need <= out.capacity) return;
    const bigger = new Batch(need);
    bigger.append(out);
    out = bigger;
  };

  /**
   * Emits the aggregates in `acc` for key `id`, ts `end`; percentiles from the sketch's last
   * merge, or (exact) from the values in [from, to).
   */
  const emit = (id: number, end: number, from: number, to: number): void => {
    if (acc.n === 0 && acc.bad === 0) return;
    const dropped = exact ? overflowed[id]! : 0;
    if (dropped > 0) overflowed[id] = 0;
    stats.windows++;
    let quality: number = Quality.good;
    let reason: string | undefined;
    if (acc.n === 0) {
      quality = Quality.bad;
      reason = `all ${acc.bad} inputs bad`;
    } else if (acc.bad > 0 || acc.uncertain > 0 || dropped > 0) {
      quality = Quality.uncertain;
      const parts = [];
      if (acc.bad > 0) parts.push(`${acc.bad} bad inputs excluded`);
      if (acc.uncertain > 0) parts.push(`${acc.uncertain} uncertain inputs`);
      if (dropped > 0) parts.push(`${dropped} values over maxPoints left out of percentiles`);
      reason = parts.join(", ");
    }
    let k = -1;
    if (exact && acc.n > 0) k = points[id]!.range(from, to, scratch);
    const n = namesOf(id);
    const device = keys.device[id]!;
    for (let j = 0; j < outputs.length; j++) {
      const o = outputs[j]!;
      const v = acc.n === 0
        ? NaN
        : o.fn
        ? o.fn(acc, perUnit)
        : sketch
        ? sketch.quantile(o.q, acc.min, acc.max)
        : quantile(scratch.a, k, o.q);
      out.add(device, n[j]!, v, quality as 0, reason, end, now, seq++);
    }
  };

  /** Closes every time window whose end the watermark has passed. */
  const closeTimeWindows = (wm: number, previousMax: number): void => {
    // No data can be newer than the previous maximum: windows past it are empty.
    const lastUseful = previousMax + size + hop;
    while (nextEnd <= wm) {
      if (nextEnd > lastUseful) {
        nextEnd = (Math.floor((wm - size) / hop) + 1) * hop + size;
        break;
      }
      const start = nextEnd - size;
      const firstPane = start / pane;
      reserve(stats.keys);
      for (let id = 0; id < stats.keys; id++) {
        acc.reset();
        const base = id * stride;
        for (let p = firstPane; p < firstPane + panesPerWindow; p++) {
          const o = base + (p % ring) * PANE_FIELDS;
          if (panes[o + P.id] === p) acc.merge(panes, o);
        }
        sketch?.merge(id, firstPane, panesPerWindow);
        emit(id, nextEnd, start, nextEnd);
        if (exact) points[id]!.evictBefore(start + hop);
      }
      nextEnd += hop;
    }
  };

  const closeCountWindow = (id: number, lastPane: number, ts: number): void => {
    acc.reset();
    const base = id * stride;
    for (let p = lastPane - panesPerWindow + 1; p <= lastPane; p++) {
      const o = base + (p % ring) * PANE_FIELDS;
      if (panes[o + P.id] === p) acc.merge(panes, o);
    }
    sketch?.merge(id, lastPane - panesPerWindow + 1, panesPerWindow);
    emit(id, acc.n > 0 ? acc.lastTs : ts, acc.firstTs, acc.lastTs + 1);
    if (exact) {
      const o = base + ((lastPane - panesPerWindow + 2) % ring) * PANE_FIELDS;
      const keepFrom = panesPerWindow > 1 ? panes[o + P.firstTs]! : acc.lastTs + 1;
      points[id]!.evictBefore(keepFrom);
    }
  };

  const closeSession = (id: number): void => {
    acc.reset();
    const o = id * stride;
    acc.merge(panes, o);
    if (sketch) {
      sketch.merge(id, 0, 1);
      sketch.clear(id, 0, NaN);
    }
    emit(id, counts[id]!, acc.firstTs, acc.lastTs + 1);
    panes[o + P.id] = NaN;
    if (exact) points[id]!.evictBefore(Infinity);
  };

  const add = (id: number, ts: number, b: Batch, i: number): void => {
    let paneId: number;
    let o: number;
    if (mode === "time") {
      paneId = Math.floor(ts / pane);
      o = id * stride + (paneId % ring) * PANE_FIELDS;
    } else if (mode === "count") {
      paneId = Math.floor(counts[id]! / countHop);
      counts[id] = counts[id]! + 1;
      o = id * stride + (paneId % ring) * PANE_FIELDS;
    } else {
      o = id * stride;
      const open = panes[o + P.id] === panes[o + P.id]; // not NaN
      if (open && ts - counts[id]! > gap) closeSession(id);
      if (panes[o + P.id] !== panes[o + P.id]) panes[o + P.id] = -1; // forces a reset below
      paneId = 0;
      if (!(ts < counts[id]!)) counts[id] = ts;
    }
    const q = b.quality[i]!;
    const kind = b.kind[i]!;
    if (q === Quality.bad) {
      stats.bad++;
      countInPane(panes, o, paneId, P.bad);
    } else if (kind !== StorageKind.number && kind !== StorageKind.boolean) {
      stats.skipped++;
    } else {
      const v = b.num[i]!;
      if (q === Quality.uncertain) countInPane(panes, o, paneId, P.uncertain);
      if (addToPane(panes, o, paneId, ts, v)) stats.reordered++;
      if (sketch) sketch.add(id, paneId, v);
      else if (exact && !points[id]!.add(ts, v, maxPoints)) {
        stats.overflow++;
        overflowed[id] = overflowed[id]! + 1;
      }
    }
    if (mode === "count" && (counts[id]! % countHop) === 0 && counts[id]! >= countSize) {
      closeCountWindow(id, paneId, ts);
    }
  };

  // What the state depends on: a snapshot is restored under any config that keeps it (what is
  // reported from the panes, `aggregates`, `output` and `integralUnit`, may change).
  const { aggregates: _a, output: _o, integralUnit: _u, persist: _p, ...layout } = config;
  const stateOf = {
    ...layout,
    percentiles: !percentiles ? "none" : exact ? "exact" : config.percentileAccuracy ?? 0.01,
  };
  const configText = JSON.stringify(stateOf, Object.keys(stateOf).sort());

  /** The state as typed arrays and key names. */
  const snapshot = (): Snapshot => {
    const n = stats.keys;
    const lens = new Float64Array(exact ? n : 0);
    let total = 0;
    for (let id = 0; id < lens.length; id++) total += lens[id] = points[id]!.len;
    const pts = new Float64Array(total), pv = new Float64Array(total);
    let at = 0;
    for (let id = 0; id < lens.length; id++) {
      const r = points[id]!;
      pts.set(r.ts.subarray(r.head, r.head + r.len), at);
      pv.set(r.v.subarray(r.head, r.head + r.len), at);
      at += r.len;
    }
    const keyNames: string[][] = [];
    for (let id = 0; id < n; id++) keyNames.push([keys.device[id]!, keys.tag[id]!]);
    return {
      meta: {
        config: configText,
        keys: keyNames,
        maxTs: Number.isFinite(maxTs) ? maxTs : null,
        nextEnd: Number.isFinite(nextEnd) ? nextEnd : null,
      },
      arrays: {
        panes: panes.slice(0, n * stride),
        counts: counts.slice(0, n),
        overflowed: overflowed.slice(0, n),
        pointLens: lens,
        pointTs: pts,
        pointV: pv,
        ...sketch?.toArrays(n),
      },
    };
  };

  /** Takes the state of a snapshot; false when it was taken under a config of other state. */
  const restore = (s: Snapshot): boolean => {
    if (s.meta.config !== configText) return false;
    const names = s.meta.keys as [string, string][];
    for (const [d, t] of names) newKey(keys.id(d, t));
    sketch?.fromArrays(names.length, s.arrays);
    panes.set(s.arrays.panes as Float64Array);
    counts.set(s.arrays.counts as Float64Array);
    overflowed.set(s.arrays.overflowed as Float64Array);
    const lens = s.arrays.pointLens as Float64Array;
    const pts = s.arrays.pointTs as Float64Array, pv = s.arrays.pointV as Float64Array;
    let at = 0;
    for (let id = 0; id < lens.length; id++) {
      for (let j = 0; j < lens[id]!; j++, at++) points[id]!.add(pts[at]!, pv[at]!, Infinity);
    }
    maxTs = (s.meta.maxTs as number | null) ?? -Infinity;
    nextEnd = (s.meta.nextEnd as number | null) ?? NaN;
    return true;
  };

  const persistPath = config.persist && ctx?.dataDir && ctx.name
    ? snapshotPath(ctx.dataDir, ctx.name)
    : undefined;

  return {
    snapshot,
    restore,
    async start() {
      if (!persistPath) return;
      try {
        const s = await readSnapshot(persistPath);
        if (s && !restore(s)) {
          ctx?.log?.info("Window state not restored: the step's windows or percentiles changed", {
            path: persistPath,
          });
        } else if (s) {
          ctx?.log?.info("Window state restored", { path: persistPath, keys: stats.keys });
        }
      } catch (e) {
        ctx?.log?.warn(`Cannot restore window state from ${persistPath}: ${(e as Error).message}`);
      }
    },
    async close() {
      if (persistPath) await writeSnapshot(persistPath, snapshot());
    },
    process(b: Batch): Batch {
      out = new Batch(16);
      now = clock?.now() ?? Date.now();
      const n = b.length;
      const tsCol = useGateway ? b.gatewayTs : b.sourceTs;
      const quality = b.quality, kind = b.kind, num = b.num;
      for (let i = 0; i < n; i++) {
        if (!all && !selected(sel, b, i)) continue;
        const ts = tsCol[i]!;
        if (!Number.isFinite(ts)) {
          stats.skipped++;
          continue;
        }
        stats.records++;
        if (mode === "time") {
          if (nextEnd !== nextEnd) {
            nextEnd = (Math.floor((ts - lateness - size) / hop) + 1) * hop + size;
          }
          if (ts > maxTs) {
            const previous = maxTs;
            maxTs = ts;
            if (ts - lateness >= nextEnd) closeTimeWindows(ts - lateness, previous);
          }
          // The newest window holding ts ends at floor(ts / hop) * hop + size.
          if (Math.floor(ts / hop) * hop + size < nextEnd) {
            stats.late++;
            continue;
          }
          if (quality[i] === Quality.good && kind[i] === StorageKind.number && !exact) {
            // The common case, without the general path's branches.
            const id = keyOf(b, i);
            const paneId = Math.floor(ts / pane);
            const o = id * stride + (paneId % ring) * PANE_FIELDS;
            if (addToPane(panes, o, paneId, ts, num[i]!)) stats.reordered++;
            if (sketch) sketch.add(id, paneId, num[i]!);
            continue;
          }
        } else if (ts > maxTs) maxTs = ts;
        add(keyOf(b, i), ts, b, i);
      }
      if (mode === "session") {
        const wm = maxTs - lateness;
        for (let id = 0; id < stats.keys; id++) {
          if (panes[id * stride + P.id] === 0 && counts[id]! + gap < wm) closeSession(id);
        }
      }
      return out;
    },
    stats(): WindowStats {
      let buffered = 0;
      for (const r of points) buffered += r.len;
      stats.bufferedPoints = buffered;
      stats.sketchCollapsed = sketch?.collapsed ?? 0;
      return { ...stats };
    },
    stateBytes(): number {
      let bytes = panes.byteLength + counts.byteLength;
      for (const r of points) bytes += r.bytes;
      return bytes + (sketch?.bytes ?? 0);
    },
  };
}

/** Issues of a window config beyond the schema. */
export function validateWindow(config: WindowConfig): StepIssue[] {
  const issues: StepIssue[] = [];
  const modes = (["size", "count", "session"] as const).filter((k) => config[k] !== undefined);
  if (modes.length !== 1) {
    issues.push({
      message: modes.length === 0
        ? "Cannot build a window without a length: give one of size (time), count (records) or session (gap)"
        : `Cannot build a window from both ${modes.join(" and ")}: give only one`,
      path: modes.length === 0 ? [] : [modes[1]!],
    });
    return issues;
  }
  const positive = (k: "size" | "hop" | "session" | "lateness", zeroOk = false) => {
    const v = config[k];
    if (v === undefined) return;
    try {
      const ms = parseDuration(v);
      if (ms < 0 || (!zeroOk && ms === 0) || !Number.isInteger(ms)) {
        issues.push({
          message: `Cannot use ${k} "${v}": it must be a whole number of milliseconds${
            zeroOk ? "" : " above 0"
          }`,
          path: [k],
        });
      }
    } catch (e) {
      issues.push({ message: (e as Error).message, path: [k] });
    }
  };
  positive("size");
  positive("hop");
  positive("session");
  positive("lateness", true);
  if (config.hop !== undefined && config.size === undefined) {
    issues.push({ message: "Cannot use hop without size (a time window)", path: ["hop"] });
  }
  if (config.size !== undefined && config.hop !== undefined && issues.length === 0) {
    const size = parseDuration(config.size), hop = parseDuration(config.hop);
    if (hop > size) {
      issues.push({
        message:
          `Cannot use hop "${config.hop}" longer than size "${config.size}": records between windows would be lost`,
        path: ["hop"],
      });
    } else if (size / gcd(size, hop) > 10_000) {
      issues.push({
        message:
          `Cannot split size "${config.size}" by hop "${config.hop}": over 10,000 panes per window (pick a hop that divides the size)`,
        path: ["hop"],
      });
    }
  }
  const pct = (config.aggregates ?? []).some((a) => a.startsWith("p"));
  if (config.percentiles === "exact" && config.percentileAccuracy !== undefined) {
    issues.push({
      message:
        "Cannot use percentileAccuracy with percentiles: exact (exact percentiles have no error): remove one",
      path: ["percentileAccuracy"],
    });
  }
  if (config.maxPoints !== undefined && config.percentiles !== "exact") {
    issues.push({
      message: pct
        ? "Cannot use maxPoints with sketch percentiles (the default; their memory is bounded without it): remove it, or set percentiles: exact to buffer the values"
        : "Cannot use maxPoints without percentiles: exact",
      path: ["maxPoints"],
    });
  }
  if (config.countHop !== undefined) {
    if (config.count === undefined) {
      issues.push({ message: "Cannot use countHop without count", path: ["countHop"] });
    } else if (config.count % config.countHop !== 0) {
      issues.push({
        message: `Cannot use countHop ${config.countHop}: it must divide count ${config.count}`,
        path: ["countHop"],
      });
    }
  }
  return issues;
}

/** The `window` step. */
export const windowStep: StepModule<WindowConfig> = {
  name: "window",
  description:
    "Aggregates records per tag or group over tumbling, sliding, count or session windows (mean, min, max, sum, count, first, last, stddev, percentiles, rate, integral, time-weighted average).",
  status: "beta",
  spec: WindowSpec,
  example: `
steps:
  # Per tag, every 10 s, the last minute's statistics (the records of the window's end).
  temps-1m:
    use: window
    from: fast
    tags: ["temp*"]
    size: 1m
    hop: 10s
    lateness: 2s
    aggregates: [mean, min, max, stddev, p95, count]
  # Energy per quarter hour from a kW reading: \`power_kw.integral\` in kWh.
  energy-15m:
    use: window
    from: meters
    tags: [power_kw]
    size: 15m
    aggregates: [integral, twa, max]
  # One key for a group of tags: the hottest zone of each device, per 5 minutes.
  zones:
    use: window
    from: fast
    tags: ["zone*"]
    group: zones
    size: 5m
    aggregates: [max]
`,
  create: (config, ctx) => createWindow(config, ctx),
  validate: (config) => validateWindow(config),
};
