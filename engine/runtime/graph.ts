/**
 * @module
 * Compiles a validated {@linkcode FlowSet} into the graph the gateway runs: which nodes
 * feed which, in a topological order. Polls are the sources; a `from:` that names a device
 * stands for every poll of that device. Validation has already rejected unknown names and
 * cycles; this module re-checks cycles because a graph that loops would run forever.
 */

import { BifrostError } from "../errors.ts";
import type { FlowSet } from "../flow/types.ts";

/** The kind of a graph node. */
export type NodeKind = "poll" | "trigger" | "step" | "sink";

/** A compiled graph. */
export interface FlowGraph {
  /** Node name → kind. */
  kinds: Map<string, NodeKind>;
  /** Node name → names of the nodes it feeds (steps and sinks). */
  consumers: Map<string, string[]>;
  /** Node name → names of the nodes feeding it (after device names are expanded). */
  inputs: Map<string, string[]>;
  /** Steps in an order where every step comes after the steps feeding it. */
  stepOrder: string[];
}

/** Expands `from:` names: a device becomes its polls. */
export function resolveFrom(flows: FlowSet, from: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of from) {
    if (flows.devices.has(name)) {
      for (const p of flows.polls.values()) if (p.device === name) out.push(p.name);
    } else {
      out.push(name);
    }
  }
  return [...new Set(out)];
}

/** Builds the graph of a flow set. */
export function compileGraph(flows: FlowSet): FlowGraph {
  const kinds = new Map<string, NodeKind>();
  const consumers = new Map<string, string[]>();
  const inputs = new Map<string, string[]>();
  for (const p of flows.polls.keys()) kinds.set(p, "poll");
  // A trigger is a source: its function's `ctx.emit(records)` enters the graph under its name.
  for (const t of flows.triggers?.keys() ?? []) kinds.set(t, "trigger");
  for (const s of flows.steps.keys()) kinds.set(s, "step");
  for (const s of flows.sinks.keys()) kinds.set(s, "sink");
  for (const name of kinds.keys()) consumers.set(name, []);

  const wire = (name: string, from: readonly string[], origin: string) => {
    const resolved = resolveFrom(flows, from);
    for (const src of resolved) {
      const k = kinds.get(src);
      if (k === undefined || k === "sink") {
        throw new BifrostError(
          "CONFIG_INVALID",
          `Cannot wire "${name}" (${origin}): "${src}" is not a poll, trigger, step or device`,
        );
      }
      consumers.get(src)!.push(name);
    }
    inputs.set(name, resolved);
  };
  for (const s of flows.steps.values()) wire(s.name, s.from, s.origin.file);
  for (const s of flows.sinks.values()) wire(s.name, s.from, s.origin.file);

  // Kahn's algorithm over steps only (polls have no inputs, sinks no outputs).
  const indeg = new Map<string, number>();
  for (const s of flows.steps.keys()) {
    indeg.set(s, (inputs.get(s) ?? []).filter((i) => kinds.get(i) === "step").length);
  }
  const ready = [...indeg].filter(([, d]) => d === 0).map(([n]) => n).sort();
  const stepOrder: string[] = [];
  while (ready.length > 0) {
    const n = ready.shift()!;
    stepOrder.push(n);
    for (const c of consumers.get(n) ?? []) {
      if (kinds.get(c) !== "step") continue;
      const d = indeg.get(c)! - 1;
      indeg.set(c, d);
      if (d === 0) ready.push(c);
    }
  }
  if (stepOrder.length !== flows.steps.size) {
    const stuck = [...indeg].filter(([, d]) => d > 0).map(([n]) => n).sort();
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot compile the flows: steps form a cycle (${stuck.join(", ")})`,
    );
  }
  return { kinds, consumers, inputs, stepOrder };
}
