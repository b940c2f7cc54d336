/**
 * @module
 * `GET /api/v1/graph`: the running flow graph as nodes and edges (devices feed polls, polls
 * and triggers feed steps and sinks through their `from:`), which the dashboard draws.
 * Read from `gateway.flows` on each request, so a reload shows at once.
 */

import { type Static, Type } from "@sinclair/typebox";
import type { FlowSet } from "../../../engine/flow/types.ts";
import type { Route } from "../context.ts";

/** One node of the graph. */
export const GraphNodeSchema = Type.Object({
  id: Type.String({ description: "`<kind>:<name>`, unique in the graph" }),
  kind: Type.Union([
    Type.Literal("device"),
    Type.Literal("poll"),
    Type.Literal("trigger"),
    Type.Literal("step"),
    Type.Literal("sink"),
  ]),
  name: Type.String(),
  use: Type.Optional(Type.String({ description: "Driver, step or sink kind" })),
});

/** The flow graph. */
export const GraphSchema = Type.Object({
  nodes: Type.Array(GraphNodeSchema),
  edges: Type.Array(Type.Object({ from: Type.String(), to: Type.String() })),
});

/** The flow graph's JSON. */
export type Graph = Static<typeof GraphSchema>;

/**
 * The graph of `flows`. A `from:` names a poll, a trigger or a step (names are unique across
 * the three, `bifrost check` sees to it); an unknown name is left out rather than guessed.
 */
export function flowGraph(flows: FlowSet): Graph {
  const nodes: Graph["nodes"] = [];
  const edges: Graph["edges"] = [];
  const ids = new Map<string, string>();
  for (const [name, d] of flows.devices) {
    nodes.push({ id: `device:${name}`, kind: "device", name, use: d.driver });
  }
  for (const [name, p] of flows.polls) {
    nodes.push({ id: `poll:${name}`, kind: "poll", name });
    ids.set(name, `poll:${name}`);
    edges.push({ from: `device:${p.device}`, to: `poll:${name}` });
  }
  for (const name of flows.triggers?.keys() ?? []) {
    nodes.push({ id: `trigger:${name}`, kind: "trigger", name });
    ids.set(name, `trigger:${name}`);
  }
  for (const [name, s] of flows.steps) {
    nodes.push({ id: `step:${name}`, kind: "step", name, use: s.use });
    ids.set(name, `step:${name}`);
  }
  for (const [name, s] of flows.sinks) {
    nodes.push({ id: `sink:${name}`, kind: "sink", name, use: s.use });
  }
  const link = (from: readonly string[], to: string) => {
    for (const f of from) {
      const id = ids.get(f);
      if (id) edges.push({ from: id, to });
    }
  };
  for (const [name, s] of flows.steps) link(s.from, `step:${name}`);
  for (const [name, s] of flows.sinks) link(s.from, `sink:${name}`);
  return { nodes, edges };
}

/** The route of the flow graph. */
export const graphRoute: Route = {
  def: {
    method: "get",
    path: "/graph",
    summary: "The running flow graph: devices, polls, triggers, steps and sinks, and their links",
    scope: "read",
    response: GraphSchema,
    errors: [],
  },
  handle: (c, ctx) => c.json(flowGraph(ctx.gateway.flows)),
};
