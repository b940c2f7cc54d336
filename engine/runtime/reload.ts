/**
 * @module
 * What a new revision of the flows changes, by name: {@linkcode diffFlows} compares two
 * validated {@linkcode FlowSet}s and says, per kind, which entities were added, removed,
 * changed or kept. The gateway applies that plan (`Gateway.apply`): kept entities keep
 * their connections, step state and queues; only what changed is stopped and started.
 *
 * Where an entity was declared (`origin`) is not part of it: moving a device to another
 * file, or adding a line above it, changes nothing that runs. A step's or sink's `from:`
 * is wiring, not configuration: changing it rewires the graph and keeps the node.
 */

import type { FlowSet } from "../flow/types.ts";

/** Names of one kind sorted into what a revision does to them. */
export interface KindDiff {
  added: string[];
  removed: string[];
  /** Present in both, configured differently: stopped and started again. */
  changed: string[];
  /** Present in both and identical: left running. */
  kept: string[];
}

/** The plan of a reload. */
export interface FlowDiff {
  devices: KindDiff;
  /** A poll of a changed device counts as changed: it is bound to the device's connection. */
  polls: KindDiff;
  steps: KindDiff;
  sinks: KindDiff;
  /** Whether any `from:` differs (the graph is recompiled either way; this is for the log). */
  rewired: boolean;
  /** Whether nothing at all changes. */
  empty: boolean;
}

/** Structural equality of flow values: plain data, arrays, maps and tag objects. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !sameValue(v, b.get(k))) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    return a.every((v, i) => sameValue(v, b[i]));
  }
  const ka = Object.keys(a).filter((k) => k !== "origin");
  const kb = Object.keys(b).filter((k) => k !== "origin");
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  const ra = a as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && sameValue(ra[k], rb[k]));
}

function diffKind<T>(
  before: ReadonlyMap<string, T>,
  after: ReadonlyMap<string, T>,
  same: (a: T, b: T, name: string) => boolean,
): KindDiff {
  const d: KindDiff = { added: [], removed: [], changed: [], kept: [] };
  for (const [name, b] of after) {
    const a = before.get(name);
    if (a === undefined) d.added.push(name);
    else (same(a, b, name) ? d.kept : d.changed).push(name);
  }
  for (const name of before.keys()) if (!after.has(name)) d.removed.push(name);
  return d;
}

/** Compares two revisions of a flow set by name. Pure. */
export function diffFlows(before: FlowSet, after: FlowSet): FlowDiff {
  const devices = diffKind(before.devices, after.devices, sameValue);
  const restarted = new Set(devices.changed);
  const polls = diffKind(
    before.polls,
    after.polls,
    (a, b) => sameValue(a, b) && !restarted.has(b.device),
  );
  const node = (a: { use: string; config: unknown }, b: { use: string; config: unknown }) =>
    a.use === b.use && sameValue(a.config, b.config);
  // A function whose code changed is a changed step, even with the same YAML.
  const steps = diffKind(
    before.steps,
    after.steps,
    (a, b) => node(a, b) && a.source === b.source,
  );
  const sinks = diffKind(before.sinks, after.sinks, node);
  let rewired = false;
  for (const [kind, map] of [["steps", after.steps], ["sinks", after.sinks]] as const) {
    for (const [name, n] of map) {
      const old = before[kind].get(name);
      if (old && !sameValue(old.from, n.from)) rewired = true;
    }
  }
  const all = [devices, polls, steps, sinks];
  const empty = !rewired &&
    all.every((k) => k.added.length + k.removed.length + k.changed.length === 0);
  return { devices, polls, steps, sinks, rewired, empty };
}

/** One line for the log: `devices +1 -0 ~2, polls …` (only the kinds that change). */
export function describeDiff(d: FlowDiff): string {
  if (d.empty) return "nothing changed";
  const parts: string[] = [];
  for (const kind of ["devices", "polls", "steps", "sinks"] as const) {
    const k = d[kind];
    const bits = [
      ...k.added.map((n) => `+${n}`),
      ...k.removed.map((n) => `-${n}`),
      ...k.changed.map((n) => `~${n}`),
    ];
    if (bits.length > 0) {
      parts.push(
        `${kind} ${bits.slice(0, 10).join(" ")}${
          bits.length > 10 ? ` (+${bits.length - 10} more)` : ""
        }`,
      );
    }
  }
  if (d.rewired) parts.push("graph rewired");
  return parts.join("; ");
}
