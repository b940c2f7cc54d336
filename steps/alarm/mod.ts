/**
 * @module
 * The `alarm` step. Each rule watches the selected tags of every device; each (rule, device,
 * tag) is one alarm with an ISA-18.2 state (`states.ts`). The condition has hysteresis (it
 * clears only `deadband` back inside the limit) and on/off delays measured on the records'
 * source times, so replays behave like live data. Every change of state emits one record
 * (tag `{tag}.{alarm}`, value a JSON object: state, active, acknowledged, priority, value,
 * limit, message), which flows to sinks like any record (MQTT, Sparkplug, history…).
 *
 * Operators acknowledge, shelve (for a time) and unshelve through {@linkcode AlarmStep.command}
 * (the HTTP API's `/alarms` routes); the record of such a change goes out with the step's next
 * batch. Bad-quality inputs leave the alarm as it is (counted as `bad`).
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
  type Value,
} from "../../engine/plugin.ts";
import { compileTemplate, KeyIndex } from "../_keys.ts";
import { type NameMatcher, nameMatcher } from "../_shared.ts";
import { readSnapshot, type Snapshot, snapshotPath, writeSnapshot } from "../_snapshot.ts";
import { compile, type Compiled } from "../expression/compile.ts";
import { ExprError, parseExpression, variables } from "../expression/parse.ts";
import { type AlarmConfig, type AlarmRule, AlarmSpec } from "./spec.ts";
import { AlarmState, type AlarmStateCode, STATE_NAMES, transition } from "./states.ts";

export { type AlarmConfig, AlarmSpec } from "./spec.ts";

/** One alarm as the API lists it. */
export interface AlarmInfo {
  id: string;
  device: string;
  tag: string;
  alarm: string;
  type: string;
  priority: string;
  state: (typeof STATE_NAMES)[number];
  active: boolean;
  value: number;
  limit: number;
  /** Source time of the last change of state. */
  changedAt: number;
  shelvedUntil?: number;
}

/** What an operator can do to an alarm. */
export type AlarmCommand = "acknowledge" | "shelve" | "unshelve";

/** An alarm step. */
export interface AlarmStep extends Step {
  process(b: Batch): Batch;
  /** Every alarm seen so far. */
  list(): AlarmInfo[];
  /**
   * Acknowledges, shelves (for `forMs`, default 1 h) or unshelves one alarm on behalf of `by`
   * (carried in the alarm record). Returns the alarm after the command, or undefined when there
   * is no alarm of that id.
   */
  command(id: string, action: AlarmCommand, forMs?: number, by?: string): AlarmInfo | undefined;
  stats(): Record<string, number>;
  /** The state, for a snapshot. */
  snapshot(): Snapshot;
  /** Takes a snapshot's state; false (nothing taken) when its config differs. */
  restore(s: Snapshot): boolean;
}

/** The typed arrays of a rule, by name (what a snapshot holds). */
const U8_FIELDS = ["state", "active", "raw"] as const;
const F64_FIELDS = [
  "since",
  "lastV",
  "lastTs",
  "changedAt",
  "shelvedUntil",
  "value",
] as const;

interface Rule {
  cfg: AlarmRule;
  /** 0 above (high, highHigh), 1 below (low, lowLow), 2 rate, 3 deviation. */
  kind: number;
  limit: number;
  name: string;
  tags: NameMatcher;
  devices: NameMatcher;
  onDelay: number;
  offDelay: number;
  deadband: number;
  keys: KeyIndex;
  state: Uint8Array;
  active: Uint8Array;
  raw: Uint8Array;
  since: Float64Array;
  lastV: Float64Array;
  lastTs: Float64Array;
  changedAt: Float64Array;
  shelvedUntil: Float64Array;
  value: Float64Array;
  suppress?: { fn: Compiled; reads: string[] };
}

const DEFAULT_SHELVE_MS = 3_600_000;

function growRule(r: Rule, n: number): void {
  if (n <= r.state.length) return;
  const cap = Math.max(16, r.state.length * 2, n);
  const u8 = (a: Uint8Array) => {
    const b = new Uint8Array(cap);
    b.set(a);
    return b;
  };
  const f64 = (a: Float64Array, fill: number) => {
    const b = new Float64Array(cap).fill(fill);
    b.set(a);
    return b;
  };
  r.state = u8(r.state);
  r.active = u8(r.active);
  r.raw = u8(r.raw);
  r.since = f64(r.since, NaN);
  r.lastV = f64(r.lastV, NaN);
  r.lastTs = f64(r.lastTs, NaN);
  r.changedAt = f64(r.changedAt, NaN);
  r.shelvedUntil = f64(r.shelvedUntil, NaN);
  r.value = f64(r.value, NaN);
}

/** Creates an alarm step. */
export function createAlarm(
  config: AlarmConfig,
  ctx?: Partial<Pick<StepContext, "clock" | "name" | "dataDir" | "log">>,
): AlarmStep {
  const problems = validateAlarm(config);
  if (problems.length > 0) throw new RangeError(problems[0]!.message);
  const clock = ctx?.clock;
  const now = () => clock?.now() ?? Date.now();
  const template = compileTemplate(config.output ?? "{tag}.{alarm}");
  const keep = config.keep === true;
  const rules: Rule[] = config.rules.map((cfg) => {
    const r: Rule = {
      cfg,
      name: cfg.name ?? cfg.type,
      kind: cfg.type === "rate"
        ? 2
        : cfg.type === "deviation"
        ? 3
        : cfg.type.startsWith("low")
        ? 1
        : 0,
      limit: cfg.limit,
      tags: nameMatcher(cfg.tags),
      devices: nameMatcher(cfg.devices),
      onDelay: cfg.onDelay ? parseDuration(cfg.onDelay) : 0,
      offDelay: cfg.offDelay ? parseDuration(cfg.offDelay) : 0,
      deadband: cfg.deadband ?? 0,
      keys: new KeyIndex(),
      state: new Uint8Array(0),
      active: new Uint8Array(0),
      raw: new Uint8Array(0),
      since: new Float64Array(0),
      lastV: new Float64Array(0),
      lastTs: new Float64Array(0),
      changedAt: new Float64Array(0),
      shelvedUntil: new Float64Array(0),
      value: new Float64Array(0),
    };
    if (cfg.suppressWhen) {
      const tree = parseExpression(cfg.suppressWhen);
      const reads = variables(tree);
      r.suppress = { fn: compile(tree, (n) => reads.indexOf(n)), reads };
    }
    return r;
  });
  // Tags other rules read (deviation references, suppression inputs), per device.
  const watched = new Set<string>();
  for (const r of rules) {
    if (r.cfg.reference) watched.add(r.cfg.reference);
    for (const n of r.suppress?.reads ?? []) watched.add(n);
  }
  const watching = watched.size > 0;
  /** The earliest end of a shelving (Infinity: none). */
  let nextExpiry = Infinity;
  const memory = new Map<string, Map<string, number>>();
  const pending: Batch = new Batch(4);
  let seq = now() * 1000;
  const stats = { events: 0, bad: 0 };

  const info = (r: Rule, k: number): AlarmInfo => {
    const a: AlarmInfo = {
      id: `${r.keys.device[k]}/${r.keys.tag[k]}/${r.name}`,
      device: r.keys.device[k]!,
      tag: r.keys.tag[k]!,
      alarm: r.name,
      type: r.cfg.type,
      priority: r.cfg.priority ?? "medium",
      state: STATE_NAMES[r.state[k]!]!,
      active: r.active[k] === 1,
      value: r.value[k]!,
      limit: r.cfg.limit,
      changedAt: r.changedAt[k]!,
    };
    if (r.state[k] === AlarmState.SHLVD) a.shelvedUntil = r.shelvedUntil[k]!;
    return a;
  };

  const emit = (out: Batch, r: Rule, k: number, ts: number, by?: string): void => {
    stats.events++;
    const a = info(r, k);
    const value: Record<string, Value> = {
      state: a.state,
      active: a.active,
      acknowledged: a.state === "NORM" || a.state === "ACKED",
      type: a.type,
      priority: a.priority,
      value: Number.isFinite(a.value) ? a.value : null,
      limit: a.limit,
    };
    if (r.cfg.message) value.message = r.cfg.message;
    if (by) value.by = by;
    if (a.shelvedUntil !== undefined) value.shelvedUntil = a.shelvedUntil;
    const tag = template({ tag: a.tag, device: a.device, alarm: r.name });
    out.add(a.device, tag, value, Quality.good, undefined, ts, now(), seq++);
  };

  const change = (
    out: Batch,
    r: Rule,
    k: number,
    ev: Parameters<typeof transition>[1],
    ts: number,
    by?: string,
  ) => {
    const before = r.state[k]! as AlarmStateCode;
    const after = transition(before, ev, r.active[k] === 1);
    if (after === before) return;
    r.state[k] = after;
    r.changedAt[k] = ts;
    emit(out, r, k, ts, by);
  };

  /** The held condition after this value (hysteresis), or -1 when it cannot be judged. */
  const condition = (r: Rule, k: number, v: number, ts: number, device: string): number => {
    const held = r.raw[k] === 1;
    const lim = r.limit, db = r.deadband, kind = r.kind;
    let x = v;
    if (kind === 1) return held ? (v > lim + db ? 0 : 1) : (v < lim ? 1 : 0);
    if (kind === 2) {
      const pv = r.lastV[k]!, pt = r.lastTs[k]!;
      if (!(ts > pt)) return -1;
      x = Math.abs((v - pv) * 1000 / (ts - pt));
    } else if (kind === 3) {
      const ref = memory.get(device)?.get(r.cfg.reference!);
      if (ref === undefined) return -1;
      x = Math.abs(v - ref);
    }
    return held ? (x < lim - db ? 0 : 1) : (x > lim ? 1 : 0);
  };

  const judge = (out: Batch, r: Rule, k: number, v: number, ts: number, device: string) => {
    const c = condition(r, k, v, ts, device);
    r.lastV[k] = v;
    r.lastTs[k] = ts;
    r.value[k] = v;
    if (c < 0) return;
    r.raw[k] = c;
    if (c === r.active[k]) {
      r.since[k] = NaN;
    } else {
      if (r.since[k] !== r.since[k]) r.since[k] = ts;
      if (ts - r.since[k]! >= (c === 1 ? r.onDelay : r.offDelay)) {
        r.active[k] = c;
        r.since[k] = NaN;
        change(out, r, k, c === 1 ? "activate" : "clear", ts);
      }
    }
    if (r.suppress) {
      const mem = memory.get(device);
      const env = Float64Array.from(r.suppress.reads, (n) => mem?.get(n) ?? NaN);
      const s = r.suppress.fn(env);
      if (s === s) change(out, r, k, s !== 0 ? "suppress" : "unsuppress", ts);
    }
  };

  const find = (id: string): [Rule, number] | undefined => {
    for (const r of rules) {
      if (!id.endsWith(`/${r.name}`)) continue;
      const rest = id.slice(0, -r.name.length - 1);
      const slash = rest.lastIndexOf("/");
      if (slash < 0) continue;
      const k = r.keys.find(rest.slice(0, slash), rest.slice(slash + 1));
      if (k >= 0) return [r, k];
    }
    return undefined;
  };

  const configText = JSON.stringify(config);
  const snapshot = (): Snapshot => {
    const arrays: Snapshot["arrays"] = {};
    const keys: string[][][] = [];
    rules.forEach((r, j) => {
      const n = r.keys.size;
      for (const f of U8_FIELDS) arrays[`${j}.${f}`] = r[f].slice(0, n);
      for (const f of F64_FIELDS) arrays[`${j}.${f}`] = r[f].slice(0, n);
      keys.push(Array.from({ length: n }, (_, k) => [r.keys.device[k]!, r.keys.tag[k]!]));
    });
    const mem = [...memory].map(([d, m]) => [d, [...m]]);
    return { meta: { config: configText, keys, memory: mem }, arrays };
  };
  const restore = (s: Snapshot): boolean => {
    if (s.meta.config !== configText) return false;
    const keys = s.meta.keys as string[][][];
    rules.forEach((r, j) => {
      for (const [d, t] of keys[j] ?? []) r.keys.id(d!, t!);
      growRule(r, r.keys.size);
      for (const f of U8_FIELDS) r[f].set(s.arrays[`${j}.${f}`] as Uint8Array);
      for (const f of F64_FIELDS) r[f].set(s.arrays[`${j}.${f}`] as Float64Array);
    });
    nextExpiry = -Infinity; // look at the restored shelvings on the next batch
    for (const [d, entries] of s.meta.memory as [string, [string, number][]][]) {
      memory.set(d, new Map(entries));
    }
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
          ctx?.log?.info("Alarm states not restored: the step's config changed", {
            path: persistPath,
          });
        }
      } catch (e) {
        ctx?.log?.warn(`Cannot restore alarm states from ${persistPath}: ${(e as Error).message}`);
      }
    },
    async close() {
      if (persistPath) await writeSnapshot(persistPath, snapshot());
    },
    process(b: Batch): Batch {
      const out = keep ? b : new Batch(4);
      if (pending.length > 0) {
        out.append(pending);
        pending.length = 0;
      }
      const t = now();
      if (t >= nextExpiry) {
        // Only when some shelving has run out: not a scan of every alarm per batch.
        nextExpiry = Infinity;
        for (const r of rules) {
          for (let k = 0; k < r.keys.size; k++) {
            if (r.state[k] !== AlarmState.SHLVD) continue;
            if (r.shelvedUntil[k]! <= t) change(out, r, k, "unshelve", t, "shelve expired");
            else nextExpiry = Math.min(nextExpiry, r.shelvedUntil[k]!);
          }
        }
      }
      const n = b.length;
      for (let i = 0; i < n; i++) {
        const kind = b.kind[i]!;
        if (kind !== StorageKind.number && kind !== StorageKind.boolean) continue;
        const device = b.device[i]!, tag = b.tag[i]!;
        if (watching && watched.has(tag) && b.quality[i] !== Quality.bad) {
          let m = memory.get(device);
          if (!m) memory.set(device, m = new Map());
          m.set(tag, b.num[i]!);
        }
        for (const r of rules) {
          if (r.tags !== undefined && !r.tags(tag)) continue;
          if (r.devices !== undefined && !r.devices(device)) continue;
          const k = r.keys.idAt(device, tag, i);
          growRule(r, k + 1);
          if (b.quality[i] === Quality.bad) {
            stats.bad++;
            continue;
          }
          judge(out, r, k, b.num[i]!, b.sourceTs[i]!, device);
        }
      }
      return out;
    },
    list(): AlarmInfo[] {
      const all: AlarmInfo[] = [];
      for (const r of rules) for (let k = 0; k < r.keys.size; k++) all.push(info(r, k));
      return all;
    },
    command(id, action, forMs = DEFAULT_SHELVE_MS, by = "operator") {
      const hit = find(id);
      if (!hit) return undefined;
      const [r, k] = hit;
      const t = now();
      if (action === "shelve") {
        r.shelvedUntil[k] = t + forMs;
        nextExpiry = Math.min(nextExpiry, t + forMs);
      }
      change(pending, r, k, action, t, by);
      return info(r, k);
    },
    stats: () => ({ ...stats }),
  };
}

/** Issues of an alarm config beyond the schema. */
export function validateAlarm(config: AlarmConfig): StepIssue[] {
  const issues: StepIssue[] = [];
  const names = new Set<string>();
  config.rules.forEach((r, i) => {
    const name = r.name ?? r.type;
    if (names.has(name) && !r.tags && !r.devices) {
      issues.push({
        message: `Cannot use alarm name "${name}" twice: give each rule its own name`,
        path: ["rules", i, r.name ? "name" : "type"],
      });
    }
    names.add(name);
    if (r.type === "deviation" && !r.reference) {
      issues.push({
        message: "Cannot build a deviation alarm without reference (the tag to compare with)",
        path: ["rules", i, "type"],
      });
    }
    if (r.reference && r.type !== "deviation") {
      issues.push({
        message: `Cannot use reference with a ${r.type} alarm: only deviation alarms compare`,
        path: ["rules", i, "reference"],
      });
    }
    for (const d of ["onDelay", "offDelay"] as const) {
      try {
        if (r[d] !== undefined) parseDuration(r[d]);
      } catch (e) {
        issues.push({ message: (e as Error).message, path: ["rules", i, d] });
      }
    }
    if (r.suppressWhen) {
      try {
        const t = parseExpression(r.suppressWhen);
        if (t.t === "number") {
          issues.push({
            message: "Cannot use a number as suppressWhen: write a condition (e.g. `running` == 0)",
            path: ["rules", i, "suppressWhen"],
            offset: t.at,
          });
        }
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
        issues.push({
          message: `Cannot use suppressWhen: ${e.message}`,
          path: ["rules", i, "suppressWhen"],
          offset: e.offset,
        });
      }
    }
  });
  return issues;
}

/** The `alarm` step. */
export const alarmStep: StepModule<AlarmConfig> = {
  name: "alarm",
  description:
    "Alarms with ISA-18.2 states: limits with hysteresis, on/off delays, priorities, rate of change and deviation; acknowledge and shelve through the API.",
  status: "beta",
  spec: AlarmSpec,
  example: `
steps:
  alarms:
    use: alarm
    from: fast
    rules:
      - { name: temp-hh, tags: [temp1], type: highHigh, limit: 95, priority: critical }
      - { name: temp-h, tags: [temp1], type: high, limit: 85, deadband: 2, onDelay: 10s, offDelay: 5s }
      - { tags: [pressure], type: rate, limit: 5, priority: high, message: Pressure moving fast }
      - { tags: [temp2], type: deviation, reference: setpoint, limit: 5, suppressWhen: "\`burner-on\` == 0" }
sinks:
  # Alarm records flow like any record: to MQTT, Sparkplug, history…
  alarm-bus: { use: mqtt, from: alarms, url: "mqtt://127.0.0.1:1883", topic: "plant/alarms/{device}/{tag}" }
`,
  create: (config, ctx) => createAlarm(config, ctx),
  validate: (config) => validateAlarm(config),
};
